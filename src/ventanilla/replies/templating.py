"""Rendering reply templates safely: Jinja2 sandbox, strict variables, clear errors."""

from __future__ import annotations

import re
from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from ventanilla.replies.draft_context import DraftContext
from ventanilla.replies.template_values import TEMPLATE_VARIABLES, template_values

MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 20_000


class TemplateError(Exception):
    """A reply template cannot be used; the message says why, in plain words."""


class TemplateSyntaxProblem(TemplateError):
    """The template is not valid Jinja2."""


class UnknownVariableError(TemplateError):
    """The template uses a name that is not in TEMPLATE_VARIABLES."""


class SandboxViolationError(TemplateError):
    """The template tried something the sandbox forbids (internals, unsafe calls)."""


_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,  # replies are plain text; the web layer escapes on display
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


@lru_cache(maxsize=256)
def _compile(source: str) -> nodes.Template:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateSyntaxProblem(f"template is longer than {MAX_TEMPLATE_CHARS} characters")
    try:
        parsed = _environment().parse(source)
    except TemplateSyntaxError as error:
        raise TemplateSyntaxProblem(f"syntax error on line {error.lineno}: {error.message}") from error
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(TEMPLATE_VARIABLES))
    if unknown:
        raise UnknownVariableError(
            f"unknown variable(s): {', '.join(unknown)}; "
            f"available: {', '.join(sorted(TEMPLATE_VARIABLES))}"
        )
    return parsed


@lru_cache(maxsize=256)
def _template(source: str) -> Template:
    return _environment().from_string(source)


def check_template(source: str) -> None:
    """Raise a TemplateError if `source` has a syntax error or uses an unknown variable."""
    _compile(source)


def render_values(source: str, values: dict[str, object]) -> str:
    """Render `source` with explicit values; whitespace is collapsed to single spaces."""
    _compile(source)
    try:
        text = _template(source).render(**values)
    except SecurityError as error:
        raise SandboxViolationError(f"not allowed in a template: {error}") from error
    except UndefinedError as error:
        raise UnknownVariableError(f"undefined value: {error.message}") from error
    except TemplateSyntaxError as error:
        raise TemplateSyntaxProblem(f"syntax error on line {error.lineno}: {error.message}") from error
    except (TypeError, ValueError, ArithmeticError, AttributeError, LookupError) as error:
        raise TemplateError(f"template failed while rendering: {error}") from error
    if len(text) > MAX_OUTPUT_CHARS:
        raise TemplateError(f"rendered text is longer than {MAX_OUTPUT_CHARS} characters")
    return _SPACES.sub(" ", text).strip()


def render_template(source: str, ctx: DraftContext, compact: int = 0) -> str:
    """Render a reply template for a draft context (the preview the template editor shows).

    Raises TemplateSyntaxProblem, UnknownVariableError or SandboxViolationError (all
    TemplateError) with a message fit to show the person editing the template.
    """
    return render_values(source, template_values(ctx, compact))
