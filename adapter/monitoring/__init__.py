"""What the web and the workers record about numbers and traffic for admins: each number's health, its
traffic and failures, the latest webhook requests. The console reads it; nothing here imports the console."""
