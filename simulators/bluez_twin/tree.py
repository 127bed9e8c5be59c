"""The D-Bus side of the twin: an object tree with properties, as bluetoothd exports it.

``ObjectTree`` holds every object's interfaces and properties (as ``Variant`` values, so an
optional property is simply absent, as in BlueZ) and answers, for the objects it holds:

- ``org.freedesktop.DBus.ObjectManager.GetManagedObjects`` on ``/``, and emits
  ``InterfacesAdded`` / ``InterfacesRemoved`` from ``/`` with every interface of an object at
  once (as bluetoothd does);
- ``org.freedesktop.DBus.Properties`` ``Get`` / ``GetAll`` / ``Set`` (only properties
  registered as writable) and emits ``PropertiesChanged`` (changed and invalidated);
- ``org.freedesktop.DBus.Introspectable.Introspect`` (interfaces and child nodes, no members);
- method calls, dispatched to ``async`` handlers registered per (interface, member). A handler
  returns the reply body (with its signature) or raises :class:`BluezError`; handlers run as
  tasks of the tree's task group, so a slow ``Connect`` never blocks the bus.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
UNKNOWN_OBJECT = "org.freedesktop.DBus.Error.UnknownObject"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
UNKNOWN_PROPERTY = "org.freedesktop.DBus.Error.UnknownProperty"
PROPERTY_READ_ONLY = "org.freedesktop.DBus.Error.PropertyReadOnly"


class BluezError(Exception):
    """A D-Bus error reply: ``name`` (``org.bluez.Error.*``) and its message text."""

    def __init__(self, name: str, text: str = "") -> None:
        super().__init__(f"{name}: {text}")
        self.name = name
        self.text = text


@dataclass(frozen=True, slots=True)
class Reply:
    """A method's reply body and signature (and file descriptors for ``h`` values)."""

    signature: str = ""
    body: list[Any] = field(default_factory=list)
    unix_fds: list[int] = field(default_factory=list)


Handler = Callable[[str, Message], Awaitable[Reply]]
"""(object path, call) -> reply."""
Setter = Callable[[str, Variant], None]
"""(object path, new value): a writable property was set."""

Interfaces = dict[str, dict[str, Variant]]


class ObjectTree:
    """See the module docstring. ``attach(bus, group)`` before use; ``clear()`` drops all."""

    def __init__(self) -> None:
        self.objects: dict[str, Interfaces] = {}
        self._methods: dict[tuple[str, str], Handler] = {}
        self._setters: dict[tuple[str, str], Setter] = {}
        self._bus: MessageBus | None = None
        self._group: asyncio.TaskGroup | None = None
        self.after_reply: dict[int, Callable[[], None]] = {}
        """Called once the reply with this serial is written (e.g. close our copy of an fd)."""

    def attach(self, bus: MessageBus, group: asyncio.TaskGroup) -> None:
        self._bus = bus
        self._group = group
        bus.add_message_handler(self._on_message)

    def detach(self) -> None:
        if self._bus is not None:
            self._bus.remove_message_handler(self._on_message)
        self._bus = None

    def method(self, interface: str, member: str, handler: Handler) -> None:
        self._methods[(interface, member)] = handler

    def writable(self, interface: str, name: str, setter: Setter) -> None:
        self._setters[(interface, name)] = setter

    # -- objects -----------------------------------------------------------------------------

    def add(self, path: str, interfaces: Interfaces) -> None:
        """Add (or extend) an object; ``InterfacesAdded`` from ``/``."""
        current = self.objects.setdefault(path, {})
        for name, props in interfaces.items():
            current[name] = dict(props)
        self._signal("/", OBJECT_MANAGER, "InterfacesAdded", "oa{sa{sv}}", [path, interfaces])

    def remove(self, path: str) -> None:
        """Remove an object; ``InterfacesRemoved`` from ``/``."""
        interfaces = self.objects.pop(path, None)
        if interfaces is not None:
            self._signal("/", OBJECT_MANAGER, "InterfacesRemoved", "oas", [path, list(interfaces)])

    def remove_under(self, prefix: str) -> None:
        """Remove every object below ``prefix`` (children first, as bluetoothd does)."""
        for path in sorted((p for p in self.objects if p.startswith(prefix + "/")), reverse=True):
            self.remove(path)

    def clear(self) -> None:
        """Forget everything without a signal (the owner of ``org.bluez`` is gone)."""
        self.objects.clear()

    def get(self, path: str, interface: str, name: str) -> Any:
        props = self.objects.get(path, {}).get(interface, {})
        variant = props.get(name)
        return None if variant is None else variant.value

    def set(self, path: str, interface: str, **changes: Variant) -> None:
        """Change properties (only those that differ are signalled)."""
        props = self.objects.get(path, {}).get(interface)
        if props is None:
            return
        changed = {k: v for k, v in changes.items() if k not in props or props[k] != v}
        if not changed:
            return
        props.update(changed)
        self._signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}as", [interface, changed, []])

    def signal_again(self, path: str, interface: str, **values: Variant) -> None:
        """Set and signal even if unchanged (a notification repeating the same value)."""
        props = self.objects.get(path, {}).get(interface)
        if props is None:
            return
        props.update(values)
        self._signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}as", [interface, values, []])

    def invalidate(self, path: str, interface: str, *names: str) -> None:
        props = self.objects.get(path, {}).get(interface)
        if props is None:
            return
        gone = [n for n in names if props.pop(n, None) is not None]
        if gone:
            self._signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}as", [interface, {}, gone])

    def _signal(self, path: str, interface: str, member: str, sig: str, body: list[Any]) -> None:
        if self._bus is not None and self._bus.connected:
            self._bus.send(Message.new_signal(path, interface, member, sig, body))

    # -- calls -------------------------------------------------------------------------------

    def _on_message(self, msg: Message) -> bool:
        if msg.message_type != MessageType.METHOD_CALL or self._group is None:
            return False
        path = msg.path or ""
        if msg.interface == OBJECT_MANAGER and msg.member == "GetManagedObjects":
            if path == "/":
                self._reply(msg, Reply("a{oa{sa{sv}}}", [self.objects]))
                return True
            return False
        if msg.interface == INTROSPECTABLE and msg.member == "Introspect":
            if (
                path == "/"
                or path in self.objects
                or any(p.startswith(path + "/") for p in self.objects)
            ):
                self._reply(msg, Reply("s", [self._introspect(path)]))
                return True
            return False
        if path not in self.objects:
            return False  # dbus-fast answers UnknownObject / UnknownMethod
        if msg.interface == PROPERTIES:
            self._properties(path, msg)
            return True
        handler = self._methods.get((msg.interface or "", msg.member or ""))
        if handler is None or msg.interface not in self.objects[path]:
            self._error(msg, UNKNOWN_METHOD, f"no method {msg.interface}.{msg.member} on {path}")
            return True
        self._group.create_task(self._call(handler, path, msg))
        return True

    async def _call(self, handler: Handler, path: str, msg: Message) -> None:
        try:
            reply = await handler(path, msg)
        except BluezError as exc:
            self._error(msg, exc.name, exc.text)
            return
        self._reply(msg, reply)

    def _properties(self, path: str, msg: Message) -> None:
        interfaces = self.objects[path]
        body = msg.body
        if msg.member == "GetAll":
            self._reply(msg, Reply("a{sv}", [interfaces.get(body[0], {})]))
        elif msg.member == "Get":
            value = interfaces.get(body[0], {}).get(body[1])
            if value is None:
                self._error(msg, UNKNOWN_PROPERTY, f"no property {body[0]}.{body[1]}")
            else:
                self._reply(msg, Reply("v", [value]))
        elif msg.member == "Set":
            setter = self._setters.get((body[0], body[1]))
            if setter is None:
                self._error(msg, PROPERTY_READ_ONLY, f"{body[0]}.{body[1]} is read-only")
                return
            try:
                setter(path, body[2])
            except BluezError as exc:
                self._error(msg, exc.name, exc.text)
                return
            self._reply(msg, Reply())
        else:
            self._error(msg, UNKNOWN_METHOD, f"no method {PROPERTIES}.{msg.member}")

    def _introspect(self, path: str) -> str:
        prefix = "" if path == "/" else path
        children = sorted(
            {p[len(prefix) + 1 :].split("/")[0] for p in self.objects if p.startswith(prefix + "/")}
        )
        parts = ['<node name="' + path + '">']
        parts += [f'<interface name="{name}"/>' for name in self.objects.get(path, {})]
        parts += [f'<node name="{child}"/>' for child in children]
        return "".join(parts) + "</node>"

    def _reply(self, msg: Message, reply: Reply) -> None:
        if self._bus is None:
            return
        answer = Message.new_method_return(msg, reply.signature, reply.body, reply.unix_fds)
        done = self.after_reply.pop(msg.serial, None)
        written = self._bus.send(answer)
        if done is not None:
            written.add_done_callback(lambda _f: done())

    def _error(self, msg: Message, name: str, text: str) -> None:
        if self._bus is not None:
            self._bus.send(Message.new_error(msg, name, text))
