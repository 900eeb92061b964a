"""First run: pick a provider, a model and a key, test the connection, write the user config.

Shown by ``pygent chat`` when no usable API key is configured; writes the same config as
``pygent setup`` (through :func:`pygent.settings.providers.write_llm_config`, which edits the file
with :mod:`pygent.settings.editing`). The connection test is the app's (``check``): a
``pygent/llm/check`` request to the server, so the TUI never calls a model itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from pygent.settings.providers import PROVIDERS, Provider, model_string, write_llm_config

_ENV_NAME = re.compile(r"^\$?[A-Z][A-Z0-9_]*$")
#: The prompt the tutorial suggests first.
TUTORIAL_PROMPT = (
    "Give me a short tour of this project: what it does and where the main code lives."
)
TUTORIAL = """\
**You're set up.** A few things to try:

- Type a request and press **Enter** (Shift+Enter or Ctrl+J for a new line). A first prompt is ready below.
- Mention a file with **@path** (Tab completes) to attach it.
- When pygent wants to change a file, the diff appears on the right: **a** accept, **r** reject, **e** reject and say why.
- **Ctrl+C** stops a running answer, **Ctrl+R** resumes an earlier session, **/help** lists commands.
"""


LLMCheck = Callable[[str, "str | None", "str | None"], Awaitable[tuple[bool, str]]]
"""``(model, api_base, api_key) -> (ok, message)``: the connection test the app provides."""


@dataclass(frozen=True)
class WelcomeResult:
    """What the person chose (the config file is already written)."""

    model: str
    api_base: str | None
    config_file: Path
    key_note: str


@dataclass(frozen=True)
class Choice:
    """The form's values, validated."""

    provider: Provider
    model: str
    api_base: str | None
    api_key: str | None
    key_note: str


class WelcomeScreen(Screen[WelcomeResult | None]):
    """The first-run form.

    Args:
        config_file: The user config file to write.
        check: Tests a configuration (``pygent/llm/check`` through the server); None disables
            the "Test connection" button.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "app.quit", "Quit")]

    def __init__(self, config_file: Path, check: LLMCheck | None = None) -> None:
        super().__init__(classes="welcome")
        self.config_file = config_file
        self.check = check
        self.provider: Provider = PROVIDERS[0]
        self.test_message = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="welcome-form"):
            yield Static(Text("Welcome to pygent", style="bold"), id="welcome-title")
            yield Static(
                "pygent needs a model to talk to. Choose a provider, a model and your API key; "
                f"this writes {self.config_file}.",
                id="welcome-intro",
            )
            yield Label("Provider")
            with RadioSet(id="provider"):
                for index, provider in enumerate(PROVIDERS):
                    yield RadioButton(provider.label, value=index == 0, id=f"provider-{index}")
            yield Label("Base URL of the server's OpenAI-compatible API", id="base-url-label")
            yield Input(value="http://localhost:11434/v1", id="base-url")
            yield Label("Model")
            yield Input(value=PROVIDERS[0].default_model, id="model")
            yield Label("API key", id="api-key-label")
            yield Input(password=True, id="api-key")
            with Horizontal(id="welcome-buttons"):
                yield Button("Test connection", id="test")
                yield Button("Save and start", id="save", variant="primary")
            yield Static("", id="welcome-result")

    def on_mount(self) -> None:
        self._show_provider(PROVIDERS[0])
        self.query_one("#provider", RadioSet).focus()
        self._say_when_unwritable()

    def _say_when_unwritable(self) -> bool:
        """Show why the config file cannot be written, before anyone fills the form; True then."""
        from pygent.settings.writable import config_dir_problem

        problem = config_dir_problem(self.config_file)
        if problem is None:
            return False
        self._result(str(problem), False)
        return True

    def _show_provider(self, provider: Provider) -> None:
        self.provider = provider
        self.query_one("#base-url").display = provider.local
        self.query_one("#base-url-label").display = provider.local
        self.query_one("#model", Input).value = provider.default_model
        key = self.query_one("#api-key", Input)
        if provider.local:
            key.placeholder = "API key (leave empty if the server needs none)"
        else:
            present = bool(os.environ.get(provider.env_var or "", "").strip())
            key.placeholder = f"Paste the key, or leave empty to use ${provider.env_var}" + (
                " (set now)" if present else " (not set now)"
            )

    @on(RadioSet.Changed, "#provider")
    def _provider_changed(self, event: RadioSet.Changed) -> None:
        self._show_provider(PROVIDERS[event.index])

    def choice(self) -> Choice:
        """The form's values.

        Raises:
            ValueError: with a message for the person.
        """
        provider = self.provider
        name = self.query_one("#model", Input).value.strip()
        if not name:
            raise ValueError("Enter a model name.")
        api_base: str | None = None
        if provider.local:
            api_base = self.query_one("#base-url", Input).value.strip()
            if not api_base.startswith(("http://", "https://")):
                raise ValueError("The base URL must start with http:// or https://.")
        raw_key = self.query_one("#api-key", Input).value.strip()
        api_key: str | None = None
        if provider.local:
            api_key = raw_key or None
            note = "stored in the config file" if api_key else "none"
        elif not raw_key or _ENV_NAME.match(raw_key):
            var = raw_key.lstrip("$") or (provider.env_var or "")
            if var != provider.env_var:
                raise ValueError(
                    f"pygent reads this provider's key from ${provider.env_var}. Leave the field "
                    f"empty and set {provider.env_var}, or paste the key itself."
                )
            note = f"from ${var}"
            if not os.environ.get(var, "").strip():
                note += f" (not set now: export {var}=... before starting pygent)"
        else:
            api_key = raw_key
            note = "stored in the config file (readable only by you)"
        return Choice(provider, model_string(provider, name), api_base, api_key, note)

    def _result(self, text: str, ok: bool) -> None:
        self.test_message = text
        self.query_one("#welcome-result", Static).update(Text(text, style="green" if ok else "red"))

    @on(Button.Pressed, "#test")
    def _test_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        try:
            choice = self.choice()
        except ValueError as exc:
            self._result(str(exc), False)
            return
        self._result("Testing the connection (one tiny request)…", True)
        self.run_test_connection(choice)

    @work(exclusive=True, group="test-connection")
    async def run_test_connection(self, choice: Choice) -> None:
        """Have the server send one tiny request with the chosen settings; show its answer."""
        if self.check is None:
            self._result("The connection test is not available here; save and try a prompt.", False)
            return
        ok, message = await self.check(choice.model, choice.api_base, choice.api_key)
        self._result(message, ok)

    @on(Button.Pressed, "#save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        try:
            choice = self.choice()
        except ValueError as exc:
            self._result(str(exc), False)
            return
        from pygent.errors import PygentError

        if self._say_when_unwritable():
            return
        try:
            write_llm_config(self.config_file, choice.model, choice.api_base, choice.api_key)
        except PygentError as exc:
            self._result(str(exc), False)
            return
        except OSError as exc:
            self._result(f"Could not write {self.config_file}: {exc.strerror or exc}", False)
            return
        self.dismiss(
            WelcomeResult(choice.model, choice.api_base, self.config_file, choice.key_note)
        )
