"""Loading the configuration: TOML file + ``TREADCTL_*`` environment + systemd credentials.

Precedence, highest first: environment variables (``TREADCTL_MQTT__HOST``, nested with ``__``;
``TREADCTL_DEVICES`` takes a JSON list), then credentials (files in ``$CREDENTIALS_DIRECTORY``,
which systemd's ``LoadCredential=`` fills), then the TOML file, then the defaults.
Every failure becomes one :class:`ConfigError` listing each problem with its key.
"""

from __future__ import annotations

import contextvars
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from treadctl.config.model import DEFAULT_CONFIG_PATH, Config
from treadctl.errors import TreadctlError
from treadctl.numbers import EnvironmentText

CREDENTIALS = {"mqtt_password": ("mqtt", "password"), "history_url": ("history", "url")}
"""systemd credential name → configuration key (``LoadCredential=mqtt_password:/etc/...``)."""

_SECRET_KEYS = frozenset({"password", "url"})


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with the configuration: the dotted key and the reason."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class ConfigError(TreadctlError):
    """The configuration cannot be used. ``problems`` lists every problem found."""

    def __init__(self, problems: list[ConfigProblem], *, path: Path | None = None) -> None:
        self.problems = problems
        self.path = path
        where = f" in {path}" if path is not None else ""
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{len(problems)} configuration problem(s){where}:\n{lines}")


@dataclass(frozen=True, slots=True)
class _Request:
    toml_file: Path | None
    env: Mapping[str, str]


_request: contextvars.ContextVar[_Request | None] = contextvars.ContextVar(
    "treadctl_config_request", default=None
)


class _EnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._env.items()}

    def __call__(self) -> dict[str, Any]:
        # Every environment value is text: mark it, so number settings parse it (they refuse
        # text from files, treadctl.numbers).
        return {key: _as_environment_text(value) for key, value in super().__call__().items()}


def _as_environment_text(value: Any) -> Any:
    if isinstance(value, str):
        return EnvironmentText(value)
    if isinstance(value, dict):
        return {key: _as_environment_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_environment_text(item) for item in value]
    return value


class _CredentialsSource(PydanticBaseSettingsSource):
    """Secrets from files in ``$CREDENTIALS_DIRECTORY`` (systemd ``LoadCredential=``)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._directory = env.get("CREDENTIALS_DIRECTORY")

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ builds the nested values directly

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if not self._directory:
            return values
        for credential, (section, key) in CREDENTIALS.items():
            path = Path(self._directory) / credential
            if path.is_file():
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    problem = ConfigProblem(
                        f"{section}.{key}", f"cannot read credential {path}: {type(exc).__name__}"
                    )
                    raise ConfigError([problem]) from exc
                # A trailing newline from `echo secret > file` is not part of the secret.
                secret = text.rstrip("\r\n")
                if secret:  # an empty file stands for "no secret" (see systemd/treadctl.service)
                    values.setdefault(section, {})[key] = secret
        return values


class _TreadctlSettings(BaseSettings, Config):
    """Config with treadctl's sources; instantiated only inside :func:`load_config`."""

    model_config = SettingsConfigDict(
        env_prefix="TREADCTL_",
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        str_strip_whitespace=True,
        validate_default=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        request = _request.get()
        if request is None:
            request = _Request(toml_file=None, env={})
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            _EnvSource(settings_cls, request.env),
            _CredentialsSource(settings_cls, request.env),
        ]
        if request.toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=request.toml_file))
        return tuple(sources)


def _problem_from_error(error: Mapping[str, Any]) -> list[ConfigProblem]:
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc)
    kind = error["type"]
    message = str(error["msg"])
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        if not key:
            # Cross-section checks report one "key: reason" per line.
            return [
                ConfigProblem(*line.split(": ", 1)) if ": " in line else ConfigProblem("", line)
                for line in message.splitlines()
            ]
    elif kind == "missing":
        message = "required"
    elif kind == "extra_forbidden":
        message = "unknown key (not a treadctl setting; check the spelling)"
    value = error.get("input")
    secret = bool(loc) and loc[-1] in _SECRET_KEYS
    if kind not in {"missing", "extra_forbidden"} and not secret and _is_scalar(value):
        message = f"{message} (got {value!r})"
    return [ConfigProblem(key, message)]


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool) and len(repr(value)) <= 80


def problems_from_validation_error(exc: ValidationError) -> list[ConfigProblem]:
    """pydantic's errors as ``key: reason`` problems (secrets never echoed)."""
    problems: list[ConfigProblem] = []
    for error in exc.errors(include_url=False):
        problems.extend(_problem_from_error(error))
    return problems


def _problem_from_settings_error(exc: SettingsError) -> ConfigProblem:
    """pydantic-settings could not parse an environment value (e.g. a JSON list)."""
    match = re.search(r'field "(\w+)"', str(exc))
    if match is None:
        return ConfigProblem("", str(exc))
    field = match.group(1)
    return ConfigProblem(
        field,
        f"cannot parse TREADCTL_{field.upper()} from the environment "
        "(lists and tables must be JSON)",
    )


def _check_toml(path: Path) -> None:
    """Read errors and TOML syntax errors, with the file name and line."""
    try:
        with path.open("rb") as handle:
            tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(
            [ConfigProblem("", f"cannot read {path}: {exc.strerror or exc}")], path=path
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([ConfigProblem("", f"{path}: invalid TOML: {exc}")], path=path) from exc


def load_config(path: Path | None, *, env: Mapping[str, str] = os.environ) -> Config:
    """The configuration from ``path`` (or the default file), ``env`` and credentials.

    ``path=None`` means :data:`DEFAULT_CONFIG_PATH`, which may be absent (environment only).
    An explicitly given path that does not exist is an error.
    Raises :class:`ConfigError` listing every problem.
    """
    toml_file: Path | None
    if path is None:
        toml_file = DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None
    else:
        if not path.exists():
            raise ConfigError([ConfigProblem("--config", f"{path}: no such file")], path=path)
        if not path.is_file():
            raise ConfigError([ConfigProblem("--config", f"{path}: not a file")], path=path)
        toml_file = path
    if toml_file is not None:
        _check_toml(toml_file)
    indexed = sorted(k for k in env if k.upper().startswith("TREADCTL_DEVICES__"))
    if indexed:
        raise ConfigError(
            [
                ConfigProblem(
                    "devices",
                    f"{indexed[0]}: single treadmill keys cannot be set from the environment; "
                    "set TREADCTL_DEVICES to a JSON list of all treadmills",
                )
            ],
            path=toml_file,
        )
    token = _request.set(_Request(toml_file=toml_file, env=dict(env)))
    try:
        settings = _TreadctlSettings()
    except ValidationError as exc:
        raise ConfigError(problems_from_validation_error(exc), path=toml_file) from exc
    except SettingsError as exc:
        raise ConfigError([_problem_from_settings_error(exc)], path=toml_file) from exc
    finally:
        _request.reset(token)
    # A plain Config (not the settings subclass, which reads the process environment when
    # validated again).
    return Config.model_validate(settings.model_dump())
