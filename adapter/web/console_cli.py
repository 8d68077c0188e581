"""`flask install` (the console's install step, from a shell) and `flask console link` (a signed sign-in link)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from adapter.console import auth, links
from adapter.console.installation import install
from adapter.console.manifest import load_manifest
from adapter.errors import ExternalApiError, RequestError
from adapter.web.common import services

console_cli = AppGroup("console", help="The admin console: signed sign-in links.")


@click.command("install")
@with_appcontext
@click.option("--helpdesk-url", default=None, help="defaults to HELPDESK_BASE_URL")
@click.option("--account-id", required=True, type=int)
@click.option("--token", required=True, envvar="HELPDESK_ADMIN_TOKEN", help="an administrator's access token "
              "(or env HELPDESK_ADMIN_TOKEN)")  # fmt: skip
def install_command(helpdesk_url: str | None, account_id: int, token: str) -> None:
    """Check the token, create the Dashboard App in the helpdesk and record the installation."""
    svc = services()
    try:
        done = install(svc, helpdesk_url or svc.settings.helpdesk_base_url, account_id, token)
    except (RequestError, ExternalApiError) as exc:
        raise click.ClickException(exc.message) from None
    manifest = load_manifest(svc.settings.public_base_url)
    click.echo(f"installed {manifest.name} {manifest.version} into {done.helpdesk_url} account {done.account_id}")
    click.echo(f"dashboard app {done.dashboard_app_id}: {manifest.dashboard_app_url}")
    for hook in manifest.webhooks:
        click.echo(f"{hook.name} webhook: {hook.url} ({', '.join(hook.events)})")


@console_cli.command("link")
@click.option("--scope", type=click.Choice(sorted(links.SCOPES)), default="console")
@click.option("--subject", default="admin", help="who the link is for (shown as the console user)")
@click.option("--minutes", type=int, default=15)
def link_command(scope: str, subject: str, minutes: int) -> None:
    """Print a signed link that signs in to the console (or opens the Dashboard App)."""
    svc = services()
    secret = auth.signing_secret(svc.settings)
    try:
        link = links.make_link(secret, scope, subject, now=svc.clock.now(), lifetime_seconds=minutes * 60)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    path = "/admin/login/link" if scope == "console" else "/app"
    click.echo(f"{svc.settings.public_base_url or ''}{path}?{link.query(secret)}")


def register(app: Flask) -> None:
    app.cli.add_command(install_command)
    app.cli.add_command(console_cli)
