"""`repairbot` command line: run the bot (or its demo), migrate, import CSV rosters, print
device labels."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.clock import SystemClock
from bot.config import ConfigError, Settings, load_settings
from bot.db import create_engine, create_sessionmaker
from bot.intake.listening import HospitalNames
from bot.labels import COLUMNS, ROWS, LabelData, write_labels
from bot.migrate import upgrade
from bot.services.assets import assets_to_label, hospital_names
from bot.services.audit import record
from bot.services.importer import Importer, ImportFailed, ImportKind, ImportReport
from bot.sla.policy import PolicyError, load_policy

EXIT_CONFIG = 2
EXIT_FAILED = 1
LABELS_PER_PAGE = COLUMNS * ROWS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repairbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run",
        help="migrate the database, then serve Telegram (long polling); the demo without a token",
    )
    demo = commands.add_parser("demo", help="the bot on a built-in local Telegram, in a browser")
    demo.add_argument("--port", type=int, help="the page's port (default WEB_PORT; 0: any)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    importer = commands.add_parser("import", help="upsert departments, staff or assets from CSV")
    importer.add_argument("kind", choices=[k.value for k in ImportKind])
    importer.add_argument("file", type=Path)
    labels = commands.add_parser("labels", help="print QR labels (PDF sheets, or PNG for one)")
    labels.add_argument("--out", type=Path, required=True, help="FILE.pdf, or FILE.png for one")
    labels.add_argument("--department", help="only this department's devices")
    labels.add_argument("--asset", nargs="+", default=[], metavar="CODE", help="only these")
    decode = commands.add_parser("decode-qr", help="print the QR texts found in images")
    decode.add_argument("images", nargs="+", type=Path)
    transcribe = commands.add_parser("transcribe", help="print what the speech model hears")
    transcribe.add_argument("audio", nargs="+", type=Path, help="wav, ogg/opus, or .pcm (16 kHz)")
    transcribe.add_argument(
        "--grammar", action="store_true", help="also a pass with the database's names"
    )
    return parser


def _decode_qr(images: list[Path]) -> int:
    """One line per code found, or why there is none; fails if any image has no code."""
    from bot.intake.qr import ImageError, decode_qr

    status = 0
    for path in images:
        try:
            texts = decode_qr(path.read_bytes())
        except OSError as exc:
            print(f"{path}: error: {exc.strerror}")
            status = EXIT_FAILED
            continue
        except ImageError:
            print(f"{path}: error: not a readable image")
            status = EXIT_FAILED
            continue
        if not texts:
            print(f"{path}: no code")
            status = EXIT_FAILED
        for text in texts:
            print(f"{path}: {text if text.isprintable() else repr(text)}")
    return status


def _transcribe(settings: Settings, files: list[Path], grammar: bool) -> int:
    """Plain transcript per file, and with --grammar the guided pass and what it pre-fills."""
    from bot.intake.speech import SAMPLE_RATE, Audio, AudioError, SpeechModel, decode_audio

    names = asyncio.run(_names(settings)) if grammar else None
    model = SpeechModel(settings.vosk_model_path)
    vocabulary = model.vocabulary(names.phrases) if names else None
    if vocabulary is not None and vocabulary.missing:
        print(f"grammar: the model lacks {', '.join(vocabulary.missing)}", file=sys.stderr)
    status = 0
    for path in files:
        try:
            data = path.read_bytes()
            if path.suffix.lower() == ".pcm":
                audio = Audio(data, len(data) / 2 / SAMPLE_RATE)
            else:
                audio = decode_audio(data, settings.voice_max_seconds)
        except (OSError, AudioError) as exc:
            print(f"{path}: error: {exc}")
            status = EXIT_FAILED
            continue
        print(f"{path}: {model.transcribe(audio)}")
        if names is not None and vocabulary is not None:
            guided = model.transcribe_with(audio, vocabulary)
            print(f"{path}: grammar: {guided}")
    return status


async def _names(settings: Settings) -> HospitalNames:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await hospital_names(session)
    finally:
        await engine.dispose()


async def _run(settings: Settings) -> None:
    from bot import heap
    from bot.app import running_app

    async with running_app(settings) as app:
        with heap.settled():
            if settings.webhook_url:
                await app.serve_webhook()
            else:
                await app.run_polling()


async def _import(settings: Settings, kind: ImportKind, path: Path) -> ImportReport:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            clock = SystemClock()
            importer = Importer(session, clock, settings.default_language)
            report = await importer.import_file(kind, path)
            record(
                session,
                clock,
                None,
                "import",
                f"{kind.value} {path.name}",
                created=report.created,
                updated=report.updated,
            )
            return report
    finally:
        await engine.dispose()


def _progress_bar(done: int, total: int) -> None:
    """A bar on stderr for sheets longer than a page; small jobs stay quiet."""
    if total <= LABELS_PER_PAGE:
        return
    filled = done * 30 // total
    end = "\n" if done == total else ""
    print(
        f"\rlabels [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", end=end, file=sys.stderr
    )


async def _bot_username(settings: Settings) -> str:
    if settings.bot_username:
        return settings.bot_username
    from bot.app import build_bot

    bot = build_bot(settings)
    try:
        me = await bot.me()
    finally:
        await bot.session.close()
    if not me.username:
        raise ConfigError("BOT_USERNAME is not set and the bot has no username")
    return me.username


async def _labels(settings: Settings, out: Path, department: str | None, codes: list[str]) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            assets = await assets_to_label(session, department, codes)
            items = [LabelData(a.code, a.model, a.location, a.department.name) for a in assets]
    finally:
        await engine.dispose()
    if not items:
        raise LookupError("no devices match")
    username = await _bot_username(settings)
    return write_labels(items, username, out, _progress_bar)


def _import_command(settings: Settings, kind: str, path: Path) -> int:
    if not path.is_file():
        print(f"error: {path}: no such file", file=sys.stderr)
        return EXIT_FAILED
    report = asyncio.run(_import(settings, ImportKind(kind), path))
    print(
        f"imported {report.kind.value}: {report.rows} rows "
        f"({report.created} new, {report.updated} updated)"
    )
    return 0


def _labels_command(settings: Settings, args: argparse.Namespace) -> int:
    pages = asyncio.run(_labels(settings, args.out, args.department, args.asset))
    print(f"wrote {args.out} ({pages} page{'s' if pages > 1 else ''})")
    return 0


def _check_policy(settings: Settings) -> None:
    try:
        load_policy(settings.sla_policy)
    except PolicyError as exc:
        raise ConfigError(f"SLA_POLICY {exc}") from None


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    """`demo`, or `run` with no token: someone trying the bot out."""
    from bot.demo.run import serve_demo

    if args.command == "run":
        print("BOT_TOKEN is not set: starting the demo instead", file=sys.stderr)
    _check_policy(settings)
    port = getattr(args, "port", None)
    asyncio.run(serve_demo(settings, settings.web_port if port is None else port))
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "decode-qr":
        return _decode_qr(args.images)
    settings = load_settings()
    if args.command == "demo" or (args.command == "run" and settings.bot_token is None):
        return _demo(settings, args)
    return _on_database(settings, args)


def _on_database(settings: Settings, args: argparse.Namespace) -> int:
    """The commands that work on the operator's database, migrated first."""
    if args.command == "run":
        _check_policy(settings)
    upgrade(settings.database_url)
    if args.command == "run":
        asyncio.run(_run(settings))
        return 0
    if args.command == "import":
        return _import_command(settings, args.kind, args.file)
    if args.command == "transcribe":
        return _transcribe(settings, args.audio, args.grammar)
    if args.command == "labels":
        return _labels_command(settings, args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return _dispatch(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ImportFailed as exc:
        print(f"error: {args.file}: {exc} (nothing was imported)", file=sys.stderr)
        return EXIT_FAILED
    except (LookupError, ValueError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 0
