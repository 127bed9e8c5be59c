"""treadctl's configuration: a TOML file, ``TREADCTL_*`` environment variables and systemd
credentials, validated with pydantic-settings. See docs/configuration.md."""

from treadctl.config.ble import BleConfig
from treadctl.config.devices import DeviceConfig
from treadctl.config.load import ConfigError, ConfigProblem, load_config
from treadctl.config.logs import LoggingConfig
from treadctl.config.model import DEFAULT_CONFIG_PATH, Config
from treadctl.config.mqtt import MqttConfig, MqttTlsConfig
from treadctl.config.safety import SafetyConfig

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "BleConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "DeviceConfig",
    "LoggingConfig",
    "MqttConfig",
    "MqttTlsConfig",
    "SafetyConfig",
    "load_config",
]
