"""The most a request can cost before it is sent: what the budget guard reserves.

The guard's promise (docs/pricing.md, "The budget guard") holds only if no request costs more
than its worst case, so every figure here errs high, never low.
"""

from __future__ import annotations

from loadgen.cost.accounting import TOKENS_PER_PRICE_UNIT
from loadgen.cost.pricing import ResolvedPrice
from loadgen.engine.request import Prompt

# Tokens a model adds around the text it is sent: role markers, the chat template's special
# tokens, a default system preamble. An allowance, not a measurement; a prompt's own text is
# bounded exactly below.
FRAMING_TOKENS = 100


def worst_case_input_tokens(prompt: Prompt) -> int:
    """An upper bound on a prompt's input tokens, whatever the language.

    Byte-level BPE tokenizers (GPT-style, Claude, Llama 3, Nova) and SentencePiece with byte
    fallback (Llama 2, Mistral) never make a token of less than one UTF-8 byte, so a text has
    at most as many tokens as bytes. Characters / 3 was no bound: 3,000 CJK characters are
    9,000 bytes and can be 3,000 to 9,000 tokens, not 1,050.
    """
    text_bytes = len(prompt.user.encode("utf-8"))
    if prompt.system:
        text_bytes += len(prompt.system.encode("utf-8"))
    return text_bytes + FRAMING_TOKENS


def worst_case_cost(price: ResolvedPrice, input_tokens_bound: int, max_tokens: int) -> float:
    """USD: every input token at the dearest input rate (a 1-hour cache write is 2x input on
    Claude, a 5-minute one 1.25x) and every one of max_tokens generated; at the long-context
    rates when the bound is past their threshold. Below it the request is surely below it too,
    since the bound errs high."""
    if input_tokens_bound < 0 or max_tokens < 0:
        raise ValueError("token counts must be >= 0")
    rates = price.prices.rates_for(input_tokens_bound)
    total = input_tokens_bound * rates.dearest_input + max_tokens * rates.output
    return total / TOKENS_PER_PRICE_UNIT
