"""`flask channels add|list|show|remove` and `flask dead-letters list|replay`."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

from adapter import admin_actions
from adapter.errors import RequestError
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


def register(app: Flask) -> None:
    app.cli.add_command(channels_cli)
    app.cli.add_command(dead_letters_cli)
