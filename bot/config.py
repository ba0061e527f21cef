"""The one place that reads the environment (and `.env`).

Everything else receives a `Settings` object, or plain values taken from it, so the CLI, the scheduler,
the Slack app and the tests all configure the services the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from feedback.tickets import CSAT_COOLDOWN_DAYS, CSAT_WINDOW_DAYS

DEFAULT_ROLES = ("finance", "warehouse", "sales", "purchasing", "hr", "support", "manager", "admin")


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _split_mapping(value: Any) -> Any:
    """`a=b,c=d` -> {"a": "b", "c": "d"}; friendlier in a .env file than JSON."""
    if isinstance(value, str):
        pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
        bad = [p for p in pairs if len(p) != 2]
        if bad:
            raise ValueError(f"expected KEY=VALUE pairs separated by commas, got {value!r}")
        return {k.strip(): v.strip() for k, v in pairs}
    return value


class SettingsError(ValueError):
    """A setting that cannot work; `str(err)` names it (as written in .env) and says what is wrong."""


CsvList = Annotated[list[str], NoDecode]
CsvMap = Annotated[dict[str, str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # Storage
    data_dir: Path = Field(default=Path("./data"), validation_alias=AliasChoices("ERP_COACH_DATA_DIR"))
    database_url: str = Field(default="", validation_alias=AliasChoices("DATABASE_URL"))
    chroma_url: str = Field(default="", validation_alias=AliasChoices("CHROMA_URL"))

    # Knowledge
    embedding_model: str = Field(default="", validation_alias=AliasChoices("EMBEDDING_MODEL"))
    knowledge_dirs: CsvList = Field(default_factory=list, validation_alias=AliasChoices("KNOWLEDGE_DIRS"))
    role_folders: CsvMap = Field(default_factory=dict, validation_alias=AliasChoices("ROLE_FOLDERS"))
    docs_base_url: str = Field(default="", validation_alias=AliasChoices("DOCS_BASE_URL"))
    # The company's own words for what the manuals call otherwise (phrase<TAB>manual words per line),
    # added to the built-in English ERP thesaurus; see knowledge/synonyms.py.
    synonyms_file: Path | None = Field(default=None, validation_alias=AliasChoices("SYNONYMS_FILE"))
    # An unrated answer gets one "was this helpful?" in its thread this long after (0 = never), at most
    # once per person per cooldown: ratings feed the quality numbers, nagging loses them.
    rating_reminder_minutes: float = Field(
        default=30, ge=0, validation_alias=AliasChoices("RATING_REMINDER_MINUTES")
    )
    rating_reminder_cooldown_hours: float = Field(
        default=24, ge=0, validation_alias=AliasChoices("RATING_REMINDER_COOLDOWN_HOURS")
    )

    # Slack
    slack_bot_token: str = Field(default="", validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_app_token: str = Field(default="", validation_alias=AliasChoices("SLACK_APP_TOKEN"))
    slack_signing_secret: str = Field(default="", validation_alias=AliasChoices("SLACK_SIGNING_SECRET"))
    slack_api_url: str = Field(
        default="https://slack.com/api/", validation_alias=AliasChoices("SLACK_API_URL")
    )
    # Slack user group id -> role, applied when a member has no role set by an admin: S0123=finance,...
    slack_usergroup_roles: CsvMap = Field(
        default_factory=dict, validation_alias=AliasChoices("SLACK_USERGROUP_ROLES")
    )
    # Slack user ids allowed to run admin commands even before anyone holds the admin role.
    slack_admins: CsvList = Field(default_factory=list, validation_alias=AliasChoices("SLACK_ADMINS"))
    # HTTP mode: request threads of the WSGI server, and worker threads answering after the ack.
    http_threads: int = Field(default=16, validation_alias=AliasChoices("ERP_COACH_HTTP_THREADS"))
    answer_workers: int = Field(default=8, validation_alias=AliasChoices("ERP_COACH_ANSWER_WORKERS"))

    # Language of `erp-coach` output (messages, errors, tables, --help); --lang, where a command has it, wins.
    cli_language: str = Field(default="zh-CN", validation_alias=AliasChoices("CLI_LANGUAGE"))

    # People and time
    roles: CsvList = Field(
        default_factory=lambda: list(DEFAULT_ROLES), validation_alias=AliasChoices("ROLES")
    )
    timezone: str = Field(default="Asia/Shanghai", validation_alias=AliasChoices("TIMEZONE"))
    quiet_hours: str = Field(default="21:00-08:30", validation_alias=AliasChoices("QUIET_HOURS"))
    working_days: str = Field(default="mon,tue,wed,thu,fri", validation_alias=AliasChoices("WORKING_DAYS"))

    # Surveys, training, digests
    surveys_file: Path | None = Field(default=None, validation_alias=AliasChoices("SURVEYS_FILE"))
    training_file: Path | None = Field(default=None, validation_alias=AliasChoices("TRAINING_FILE"))
    digest_cron: str = Field(default="0 9 * * mon", validation_alias=AliasChoices("DIGEST_CRON"))
    managers_channel: str = Field(default="", validation_alias=AliasChoices("MANAGERS_CHANNEL"))
    manager_role: str = Field(default="manager", validation_alias=AliasChoices("MANAGER_ROLE"))
    scheduler_tick_seconds: int = Field(default=60, validation_alias=AliasChoices("SCHEDULER_TICK_SECONDS"))
    fanout_per_second: float = Field(default=0, validation_alias=AliasChoices("FANOUT_PER_SECOND"))

    # Tickets
    triage_channel: str = Field(default="", validation_alias=AliasChoices("TRIAGE_CHANNEL"))
    triage_roles: CsvList = Field(
        default_factory=lambda: ["support", "admin"], validation_alias=AliasChoices("TRIAGE_ROLES")
    )
    # Language of the triage cards and their threads (support's channel, one language for everyone).
    triage_language: str = Field(default="zh-CN", validation_alias=AliasChoices("TRIAGE_LANGUAGE"))
    ticket_reaction: str = Field(default="ticket", validation_alias=AliasChoices("TICKET_REACTION"))
    ticket_sla_hours: CsvMap = Field(
        default_factory=lambda: {"urgent": "4", "high": "8", "normal": "24", "low": "72"},
        validation_alias=AliasChoices("TICKET_SLA_HOURS"),
    )
    ticket_waiting_close_days: float = Field(
        default=5, ge=0.01, validation_alias=AliasChoices("TICKET_WAITING_CLOSE_DAYS")
    )
    # The closure notice asks for a 1-5 rating, but nobody is asked again within CSAT_COOLDOWN_DAYS of
    # their last ask (0 = every time); a rating counts for CSAT_WINDOW_DAYS after the ask (Zendesk: 28).
    csat_cooldown_days: float = Field(
        default=CSAT_COOLDOWN_DAYS, ge=0, validation_alias=AliasChoices("CSAT_COOLDOWN_DAYS")
    )
    csat_window_days: float = Field(
        default=CSAT_WINDOW_DAYS, gt=0, validation_alias=AliasChoices("CSAT_WINDOW_DAYS")
    )
    # The report modal opens at once; knowledge-base suggestions found within this many seconds are added
    # to it (a late one would move the form under the user's cursor). 0 turns the suggestions off.
    ticket_deflection_seconds: float = Field(
        default=5, ge=0, validation_alias=AliasChoices("TICKET_DEFLECTION_SECONDS")
    )
    # Mean of embedding cosine and word overlap; see feedback.tickets.similar_open_tickets and
    # benchmarks/ticket_similarity.py (0.45: best F1 and F0.5 on 130 labelled pairs). Tickets in two
    # languages are compared on their ERP terms (feedback.tickets.CROSS_LANGUAGE_THRESHOLD).
    ticket_similarity_threshold: float = Field(
        default=0.45, ge=0, le=1, validation_alias=AliasChoices("TICKET_SIMILARITY_THRESHOLD")
    )

    _split_lists = field_validator("knowledge_dirs", "roles", "slack_admins", "triage_roles", mode="before")(
        _split_csv
    )
    _split_maps = field_validator("role_folders", "slack_usergroup_roles", "ticket_sla_hours", mode="before")(
        _split_mapping
    )

    @field_validator("triage_language", "cli_language")
    @classmethod
    def _known_language(cls, value: str, info: ValidationInfo) -> str:
        from bot.i18n import LANGUAGES

        if value not in LANGUAGES:
            name = cls.model_fields[info.field_name].validation_alias.choices[0]
            raise ValueError(f"{name}: {value!r} is not one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"TIMEZONE: {value!r} is not a time zone; write a name such as Asia/Shanghai"
            ) from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        from feedback.scheduler import QuietHours

        QuietHours.parse(value)  # InvalidSchedule (a ValueError) says what to write
        return value

    @field_validator("working_days")
    @classmethod
    def _working_days(cls, value: str) -> str:
        from feedback.scheduler import parse_working_days

        parse_working_days(value)
        return value

    @field_validator("digest_cron")
    @classmethod
    def _digest_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(
                f"DIGEST_CRON: {value!r} is not a cron line, e.g. '0 9 * * mon' ({exc})"
            ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if not value:
            return value
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            backend = None
        if backend not in ("sqlite", "postgresql"):
            # The message lands in terminals and deploy logs: never with the password in it.
            shown = re.sub(r"([/:][^/:@]*:)[^@]*@", r"\1***@", value)
            raise ValueError(
                f"DATABASE_URL: {shown!r} is not a database URL erp-coach can use; write "
                "postgresql+psycopg://USER:PASSWORD@HOST/DB, or leave it empty for SQLite under the data dir"
            )
        return value

    @field_validator("data_dir")
    @classmethod
    def _data_dir_can_exist(cls, value: Path) -> Path:
        """The folder is created when first needed; say now if it never can be."""
        existing = value
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
        if not existing.is_dir():
            raise ValueError(f"ERP_COACH_DATA_DIR: {existing} is not a folder, so {value} cannot be created")
        return value

    @field_validator("ticket_sla_hours")
    @classmethod
    def _sla_hours_are_numbers(cls, value: dict[str, str]) -> dict[str, str]:
        for priority, hours in value.items():
            try:
                if float(hours) <= 0:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"TICKET_SLA_HOURS: {priority}={hours!r} is not a positive number of hours"
                ) from None
        return value

    @property
    def sla_hours(self) -> dict[str, float]:
        """Per-priority SLA in hours, e.g. {"urgent": 4.0, ...}."""
        return {priority: float(hours) for priority, hours in self.ticket_sla_hours.items()}

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'erp-coach.db').resolve()}"

    @property
    def surveys_path(self) -> Path:
        return self.surveys_file or self.data_dir / "surveys.yaml"

    @property
    def training_path(self) -> Path:
        return self.training_file or self.data_dir / "training.yaml"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "lexical"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once at start-up; overrides win over the environment (tests, CLI flags).

    Raises SettingsError naming each setting that is wrong, one line each."""
    try:
        try:
            return Settings(**overrides)
        except UnicodeDecodeError:  # a .env saved by a Chinese Windows editor: GBK, as other files may be
            return Settings(_env_file_encoding="gb18030", **overrides)
    except UnicodeDecodeError as exc:
        raise SettingsError(f".env: not UTF-8 or GBK text (byte {exc.start}); save it as UTF-8") from None
    except ValidationError as exc:
        raise SettingsError("\n".join(_problem(e) for e in exc.errors())) from None


def _problem(error: Any) -> str:
    """One pydantic error as `NAME: what is wrong`, NAME as written in .env."""
    name = str(error["loc"][0]) if error.get("loc") else ""
    field = Settings.model_fields.get(name)
    if field is not None and isinstance(field.validation_alias, AliasChoices):
        name = str(field.validation_alias.choices[0])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error.get("type") != "value_error":
        message += f" (got {error.get('input')!r})"
    return message if message.startswith(f"{name}:") else f"{name}: {message}"
