"""Dataset rows and the prompt template that turns each row into a request."""

from __future__ import annotations

import codecs
import json
import os
import random
import stat
import string
from pathlib import Path
from typing import Any

from loadgen.config.scenario import Scenario, dataset_path
from loadgen.core.errors import ConfigError
from loadgen.engine.request import Prompt, SessionScript
from loadgen.plan.message_rows import MESSAGES_FIELD, row_conversation
from loadgen.plan.synthetic_prompts import ROW_PREFIX, SyntheticTexts, synthetic_rows

# Caps on a dataset, documented in docs/dataset-format.md. One row: about a million tokens
# of English text (4 characters a token). One file: ample for prompts, and a bound on the
# memory the rows take (they are all held, and each is rendered once at start).
MAX_ROW_BYTES = 4 * 1024 * 1024
MAX_DATASET_BYTES = 256 * 1024 * 1024
_MIB = 1024 * 1024

# What stat says a path is, for a dataset path that is not a regular file.
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def synthetic_seed(scenario: Scenario) -> int:
    """The seed of a synthetic dataset's counts and texts: its own, else the scenario's, else
    0 (so that a run without a seed still sends the same prompts, in its own order)."""
    spec = scenario.dataset.synthetic
    assert spec is not None
    if spec.seed is not None:
        return spec.seed
    return scenario.seed if scenario.seed is not None else 0


def load_rows(scenario: Scenario) -> list[dict[str, Any]]:
    spec = scenario.dataset
    if spec.synthetic is not None:
        return list(synthetic_rows(spec.synthetic, synthetic_seed(scenario)))
    if spec.rows is not None:
        rows = list(spec.rows)
        where = "dataset.rows"
        _check_inline_sizes(rows, where)
    else:
        path = dataset_path(scenario)
        where = f"dataset.path ({path})"
        rows = _read_jsonl(path, where)
    if not rows:
        raise ConfigError([f"{where}: the dataset has no rows; add at least one"])
    return rows


def _read_jsonl(path: Path, where: str) -> list[dict[str, Any]]:
    data = _read_dataset_file(path, where)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    rows, problems = [], []
    # Rows end at "\n" only (JSON Lines): a JSON string may hold U+2028 or U+0085 raw, which
    # str.splitlines would take for line ends.
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if len(raw) > MAX_ROW_BYTES:
            problems.append(
                f"{where} line {number}: the row is {len(raw) / _MIB:.1f} MiB, over the "
                f"{MAX_ROW_BYTES // _MIB} MiB limit for one row; shorten it (is the file JSON "
                "Lines, one object per line?)"
            )
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"{where} line {number}: not UTF-8 ({exc.reason} at byte {exc.start})")
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where} line {number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(row, dict):
            problems.append(f"{where} line {number}: expected a JSON object per line")
            continue
        rows.append(row)
    if problems:
        raise ConfigError(problems[:20])
    return rows


def _read_dataset_file(path: Path, where: str) -> bytes:
    """The file's bytes, if it is a regular file within MAX_DATASET_BYTES.

    Opened without blocking (a FIFO would wait for a writer) and checked on the open file
    itself, so what is read is what was checked; read no further than the cap, so a file that
    grows (or a device that never ends) cannot fill memory."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ConfigError(
            [f"{where}: no such file; the path is relative to the scenario (or the current folder)"]
        ) from None
    except OSError as exc:
        raise ConfigError([f"{where}: cannot read it ({exc.strerror})"]) from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            kind = next(
                (name for test, name in _FILE_KINDS if test(status.st_mode)), "not a regular file"
            )
            raise ConfigError(
                [
                    f"{where}: is {kind}, not a regular file; dataset.path must name a JSON "
                    "Lines file (copy the rows you need into one)"
                ]
            )
    except BaseException:
        os.close(fd)
        raise
    with open(fd, "rb") as file:
        # O_NONBLOCK does nothing to a regular file's reads: they block as usual.
        chunks, size = [], 0
        while size <= MAX_DATASET_BYTES and status.st_size <= MAX_DATASET_BYTES:
            try:
                chunk = file.read(_MIB)
            except OSError as exc:
                raise ConfigError([f"{where}: cannot read it ({exc.strerror})"]) from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    if max(size, status.st_size) > MAX_DATASET_BYTES:
        raise ConfigError(
            [
                f"{where}: the file is over the {MAX_DATASET_BYTES // _MIB} MiB limit for a "
                "dataset; use a sample of its rows (rows are reused in turn when a run needs "
                "more requests than there are rows)"
            ]
        )
    return b"".join(chunks)


def _check_inline_sizes(rows: list[Any], where: str) -> None:
    problems = []
    for index, row in enumerate(rows):
        size = len(json.dumps(row, default=str).encode())
        if size > MAX_ROW_BYTES:
            problems.append(
                f"{where}[{index}]: the row is {size / _MIB:.1f} MiB, over the "
                f"{MAX_ROW_BYTES // _MIB} MiB limit for one row; shorten it"
            )
    if problems:
        raise ConfigError(problems[:20])


def template_fields(template: str, where: str = "prompt.template") -> set[str]:
    """The row fields a template uses. Only plain `{field}` names are allowed: str.format
    would otherwise follow `{row.__class__}` or `{row[0]}` into Python objects, and a format
    spec (`{body:>1000000000}`) or conversion is a program, not a placeholder."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError([f"{where}: {exc}; write literal braces as {{{{ and }}}}"]) from None
    fields, problems = set(), []
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        shown = (
            "{"
            + field
            + (f"!{conversion}" if conversion else "")
            + (f":{spec}" if spec else "")
            + "}"
        )
        problem = _field_problem(field, spec or "", conversion)
        if problem:
            problems.append(
                f"{where}: {shown} {problem}; only plain {{field}} names are allowed: put "
                "the text the prompt needs in a field of the rows (a literal brace is {{ or }})"
            )
        else:
            fields.add(field)
    if problems:
        raise ConfigError(problems[:20])
    return fields


def _field_problem(field: str, spec: str, conversion: str | None) -> str | None:
    if not field.strip():
        return "has no field name"
    if "." in field or "[" in field:
        return "reaches into the value (attribute or index access)"
    if field.isdigit():
        return "is a position, not a field name"
    if conversion:
        return f"has a conversion (!{conversion})"
    if spec:
        return f"has a format spec (:{spec})"
    return None


class PromptSource:
    """Cycles through the rows (shuffled once with the run's seed) and renders each."""

    def __init__(self, scenario: Scenario, rows: list[dict[str, Any]], seed: int) -> None:
        template_needed = template_fields(scenario.prompt.template)
        system_needed = (
            template_fields(scenario.prompt.system, "prompt.system")
            if scenario.prompt.system
            else set()
        )
        needed = template_needed | system_needed
        self._synthetic = None
        if scenario.dataset.synthetic is not None:
            _check_synthetic_fields(needed)
            self._synthetic = SyntheticTexts(scenario.dataset.synthetic, synthetic_seed(scenario))
            # The text is made per model when a prompt is asked for; "" checks the template.
            rows = [{**row, "text": ""} for row in rows]
        problems = []
        for index, row in enumerate(rows):
            row_name = _row_name(row, index)
            # A message-history row sends its last message: the template is not used for it.
            row_needed = system_needed if MESSAGES_FIELD in row else needed
            missing = sorted(row_needed - row.keys())
            if missing:
                problems.append(
                    f"dataset {row_name}: lacks field(s) {', '.join(missing)} "
                    "that the prompt template uses"
                )
            # Null is never made into text ("None" in a prompt measures the wrong thing).
            nulls = sorted(f for f in row_needed | {"id"} if f in row and row[f] is None)
            if nulls:
                leave_out = (
                    " (or leave id out: the row's position names it)" if "id" in nulls else ""
                )
                problems.append(
                    f"dataset {row_name}: field(s) {', '.join(nulls)} are null; give each a "
                    f'value, "" for an empty text{leave_out}'
                )
        problems += _conversation_problems(scenario, rows)
        if not problems:
            # Render every row once now: a row the template cannot fill must fail here, not
            # mid-run.
            for index, row in enumerate(rows):
                try:
                    if MESSAGES_FIELD not in row:
                        scenario.prompt.template.format_map(row)
                    if scenario.prompt.system:
                        scenario.prompt.system.format_map(row)
                except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
                    problems.append(
                        f"dataset {_row_name(row, index)}: the prompt template fails on it: {exc}"
                    )
        if problems:
            raise ConfigError(problems[:20])
        self._rows = list(rows)
        if scenario.dataset.shuffle:
            random.Random(seed).shuffle(self._rows)
        self._system = scenario.prompt.system
        self._template = scenario.prompt.template
        self._head_chars = template_head_chars(scenario.prompt.template)
        self._conversation = scenario.conversation

    def __len__(self) -> int:
        return len(self._rows)

    def rows_by_id(self) -> dict[str, dict[str, Any]]:
        """Each row under the row_id its Samples carry (its `id`, else its position)."""
        return {str(row.get("id", index)): row for index, row in enumerate(self._rows)}

    @property
    def synthetic(self) -> SyntheticTexts | None:
        """The texts of a synthetic dataset (None for rows): how each model counts tokens."""
        return self._synthetic

    def requested_tokens(self) -> dict[str, tuple[int, int]]:
        """A synthetic dataset's (input, output) tokens by row_id; {} for rows."""
        if self._synthetic is None:
            return {}
        return {str(row["id"]): (row["input_tokens"], row["output_tokens"]) for row in self._rows}

    def prompt(self, index: int, model: str | None = None) -> Prompt:
        """Prompt `index` (the rows in turn); a synthetic one made to `model`'s token count."""
        row = self._rows[index % len(self._rows)]
        if self._synthetic is not None:
            return self._synthetic_prompt(self._synthetic, row, model)
        system = self._system.format_map(row) if self._system else None
        row_id = str(row.get("id", index % len(self._rows)))
        if MESSAGES_FIELD in row:
            conversation = row_conversation(row[MESSAGES_FIELD], row_id)
            return Prompt(
                row_id=row_id,
                system=system,
                user=conversation.user,
                history=conversation.history,
                user_blocks=conversation.user_blocks,
            )
        return Prompt(
            row_id=row_id,
            system=system,
            user=self._template.format_map(row),
            prefix_chars=self._head_chars,
        )

    def session_script(self, index: int) -> SessionScript | None:
        """The script of the session that prompt `index` starts (None: no conversation)."""
        spec = self._conversation
        if spec is None:
            return None
        field = spec.follow_up_field()
        if field is None:
            follow_ups = tuple(spec.follow_ups)
        else:
            follow_ups = tuple(self._rows[index % len(self._rows)][field])
        return SessionScript(
            turns=spec.turns,
            follow_ups=follow_ups,
            think_ns=round(spec.think_time * 1e9),
            tool_result=spec.tool_result,
        )

    def _synthetic_prompt(
        self, texts: SyntheticTexts, row: dict[str, Any], model: str | None
    ) -> Prompt:
        shape = int(str(row["id"]).removeprefix(ROW_PREFIX))
        counter = texts.counter(model)
        fields = {"text": texts.text(shape, counter)}
        user = self._template.format_map(fields)
        prefix = self._head_chars
        if _starts_with_field(self._template, "text"):
            prefix += texts.prefix_chars(counter)
        return Prompt(
            row_id=str(row["id"]),
            system=self._system.format_map(fields) if self._system else None,
            user=user,
            prefix_chars=min(prefix, len(user)),
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            ignore_eos=texts.spec.ignore_eos,
        )


def template_head_chars(template: str) -> int:
    """The length of the template's text before its first {field}: the same in every prompt,
    so a "prefix" cache point may go after it. 0 for a template without fields (nothing
    varies, and nothing is worth a cache point of its own)."""
    head = ""
    for literal, field, _, _ in string.Formatter().parse(template):
        head += literal
        if field is not None:
            return len(head)
    return 0


def _starts_with_field(template: str, name: str) -> bool:
    """Whether `name` is the template's first field (the synthetic text's prefix then
    follows the template's head)."""
    fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    return bool(fields) and fields[0] == name


def _conversation_problems(scenario: Scenario, rows: list[dict[str, Any]]) -> list[str]:
    """Message rows that cannot be read, and follow-ups that a row lacks."""
    problems = []
    for index, row in enumerate(rows):
        if MESSAGES_FIELD in row:
            try:
                row_conversation(row[MESSAGES_FIELD], f"dataset {_row_name(row, index)}")
            except ValueError as exc:
                problems.append(str(exc))
    spec = scenario.conversation
    field = None if spec is None else spec.follow_up_field()
    if field is None:
        return problems
    if scenario.dataset.synthetic is not None:
        return [
            f"conversation.follow_ups: names the field {field!r}, but a synthetic dataset's "
            "rows have only text; give the follow-ups as a list"
        ]
    for index, row in enumerate(rows):
        texts = row.get(field)
        if (
            not isinstance(texts, list)
            or not texts
            or not all(isinstance(t, str) and t.strip() for t in texts)
        ):
            problems.append(
                f"dataset {_row_name(row, index)}: conversation.follow_ups names the field "
                f"{field!r}; each row needs it as a non-empty list of non-empty texts"
            )
    return problems


def _check_synthetic_fields(needed: set[str]) -> None:
    other = sorted(needed - {"text"})
    if other:
        raise ConfigError(
            [
                f"prompt: uses field(s) {', '.join(other)}, but a synthetic dataset's rows have "
                "only {text} (the made prompt); leave the prompt section out, or use only {text}"
            ]
        )


def _row_name(row: dict[str, Any], index: int) -> str:
    """How messages name a row: by its id, else by its position (1-based)."""
    row_id = row.get("id")
    return f"row {index + 1}" if row_id is None else str(row_id)
