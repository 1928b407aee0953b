"""`repairbot` command line: run the bot, migrate the database, import CSV rosters."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.clock import SystemClock
from bot.config import ConfigError, Settings, load_settings
from bot.db import create_engine, create_sessionmaker
from bot.migrate import upgrade
from bot.services.importer import Importer, ImportFailed, ImportKind, ImportReport

EXIT_CONFIG = 2
EXIT_FAILED = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repairbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="migrate the database, then serve Telegram (long polling)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    importer = commands.add_parser("import", help="upsert departments, staff or assets from CSV")
    importer.add_argument("kind", choices=[k.value for k in ImportKind])
    importer.add_argument("file", type=Path)
    return parser


async def _run(settings: Settings) -> None:
    from bot.app import running_app

    async with running_app(settings) as app:
        await app.run_polling()


async def _import(settings: Settings, kind: ImportKind, path: Path) -> ImportReport:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            importer = Importer(session, SystemClock(), settings.default_language)
            return await importer.import_file(kind, path)
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings()
        if args.command == "run":
            settings.token()
        upgrade(settings.database_url)
        if args.command == "run":
            asyncio.run(_run(settings))
        elif args.command == "import":
            if not args.file.is_file():
                print(f"error: {args.file}: no such file", file=sys.stderr)
                return EXIT_FAILED
            report = asyncio.run(_import(settings, ImportKind(args.kind), args.file))
            print(
                f"imported {report.kind.value}: {report.rows} rows "
                f"({report.created} new, {report.updated} updated)"
            )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ImportFailed as exc:
        print(f"error: {args.file}: {exc} (nothing was imported)", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        pass
    return 0
