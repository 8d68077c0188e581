"""The admin console's logic: installation, onboarding, number health, statistics, the Dashboard App.

No flask here: adapter/web/console*.py turns these functions into pages.
"""
