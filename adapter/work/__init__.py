"""What the workers do: the kinds of job (kinds.py) and one handler method per kind (handlers.py)."""
