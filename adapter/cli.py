"""The adapter's commands: `flask channels add|list|show|remove`, `flask dead-letters list|replay`,
`flask install` (the console's install step, from a shell), `flask console link` (a signed sign-in link) and
`flask upgrade-keys` (once, when upgrading from a version before hash-tagged keys)."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from adapter import admin_actions
from adapter.console import auth, links
from adapter.console.installation import install
from adapter.console.manifest import load_manifest
from adapter.errors import ExternalApiError, RequestError
from adapter.store.upgrade import upgrade_keys
from adapter.web.common import services

channels_cli = AppGroup("channels", help="Manage WhatsApp channels (one per phone number).")
dead_letters_cli = AppGroup("dead-letters", help="Inspect and replay jobs that failed for good.")


def _fail(exc: RequestError) -> None:
    details = f" {json.dumps(exc.details)}" if exc.details else ""
    raise click.ClickException(f"{exc.message}{details}")


@channels_cli.command("add")
@click.option("--phone-number-id", required=True)
@click.option("--display-phone-number", default="")
@click.option("--waba-id", required=True)
@click.option("--graph-access-token", required=True, envvar="GRAPH_ACCESS_TOKEN", help="or env GRAPH_ACCESS_TOKEN")
@click.option("--helpdesk-account-id", required=True, type=int)
@click.option("--helpdesk-inbox-id", required=True, type=int)
@click.option("--helpdesk-api-token", required=True, envvar="HELPDESK_API_TOKEN", help="or env HELPDESK_API_TOKEN")
@click.option("--helpdesk-webhook-secret", required=True, envvar="HELPDESK_WEBHOOK_SECRET")
@click.option("--default-agent-bot-id", type=int, default=None)
def add(**options: object) -> None:
    """Connect a number to a helpdesk API inbox."""
    try:
        channel = admin_actions.add_channel(services(), options)
    except RequestError as exc:
        _fail(exc)
        return
    click.echo(json.dumps(admin_actions.describe(services(), channel), indent=2))


@channels_cli.command("list")
def list_() -> None:
    """List channels (secrets are never shown)."""
    for channel in services().channels.all():
        click.echo(f"{channel.phone_number_id}\t{channel.display_phone_number}\tinbox {channel.helpdesk_inbox_id}")


@channels_cli.command("show")
@click.argument("phone_number_id")
def show(phone_number_id: str) -> None:
    try:
        channel = admin_actions.require_channel(services(), phone_number_id)
    except RequestError as exc:
        _fail(exc)
        return
    click.echo(json.dumps(admin_actions.describe(services(), channel), indent=2))


@channels_cli.command("remove")
@click.argument("phone_number_id")
def remove(phone_number_id: str) -> None:
    try:
        admin_actions.remove_channel(services(), phone_number_id)
    except RequestError as exc:
        _fail(exc)
        return
    click.echo(f"removed {phone_number_id}")


@dead_letters_cli.command("list")
def list_dead() -> None:
    for record in services().queue.dead_letters():
        click.echo(f"{record['job']['id']}\t{record['job']['kind']}\t{record['error']}")


@dead_letters_cli.command("replay")
@click.argument("job_id", required=False)
def replay(job_id: str | None) -> None:
    """Replay one dead job by id, or all of them."""
    click.echo(f"replayed {services().queue.replay_dead_letters(job_id)}")


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


@click.command("upgrade-keys")
@with_appcontext
def upgrade_keys_command() -> None:
    """Rename the keys of versions before hash tags (docs/operations.md, "Upgrading to hash-tagged keys")."""
    click.echo(f"renamed {upgrade_keys(services().store)} keys")


def register(app: Flask) -> None:
    app.cli.add_command(channels_cli)
    app.cli.add_command(dead_letters_cli)
    app.cli.add_command(install_command)
    app.cli.add_command(console_cli)
    app.cli.add_command(upgrade_keys_command)
