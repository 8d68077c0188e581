# The adapter's image: the same code runs as `web` (default) or `worker` (see compose.yaml / Procfile).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=8080
WORKDIR /app

COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY adapter ./adapter
COPY config ./config
COPY plugin_manifest ./plugin_manifest
COPY wsgi.py Procfile ./

RUN useradd --system --uid 10001 adapter
USER adapter

EXPOSE 8080
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "wsgi:app"]
