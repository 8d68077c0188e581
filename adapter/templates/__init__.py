"""WhatsApp message templates: the model, local review rules, sending, storage, sync and management.

No flask and no web concerns here: the web layer and the worker call these functions.
"""
