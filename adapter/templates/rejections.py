"""Meta's template rejection reasons in plain words: what usually causes each one and what to do.

Meta's `reason` enum (status webhook and `rejected_reason`, whatsapp.md §2.6/§5) names a policy, not a fix;
admins need the fix. Reasons Meta adds later fall back to a generic sentence that still names the code.
"""

from __future__ import annotations

EXPLANATIONS: dict[str, str] = {
    "ABUSIVE_CONTENT": (
        "Meta found content that breaks WhatsApp's Business or Commerce Policy (abusive or threatening words, "
        "prohibited goods or services). Rewrite the text so it clearly follows the policies, then submit a new "
        "template or appeal within 24 hours if you believe it is compliant."
    ),
    "INCORRECT_CATEGORY": (
        "The category does not fit the content: usually promotional content in a UTILITY template, or a one-time "
        "code outside AUTHENTICATION. Choose the category that matches (MARKETING for offers and announcements) "
        "and submit again."
    ),
    "INVALID_FORMAT": (
        "The template breaks Meta's formatting rules: a variable at the start or end of the body, variables next "
        "to each other, unmatched braces, variables not numbered {{1}}, {{2}}… in order, too many variables for "
        "the length of the text, or missing examples. Fix the format and submit again."
    ),
    "PROMOTIONAL": (
        "Meta judged the content promotional. Usually promotional content in a utility template, or missing "
        "opt-in: move offers to a MARKETING template and only send it to customers who agreed to receive them."
    ),
    "SCAM": (
        "Meta believes the template could be used to deceive customers (misleading claims, link shorteners or "
        "unrelated domains, requests for passwords or payment details). Remove such content, link only to your "
        "own domain, and submit again."
    ),
    "TAG_CONTENT_MISMATCH": (
        "The category or type chosen does not match what the template says (for example a UTILITY template "
        "without a transaction the customer started). Choose the matching category or change the content."
    ),
    "CATEGORY_NOT_AVAILABLE": (
        "The chosen category is not available for this WhatsApp Business Account. Choose another category."
    ),
    "NONE": (
        "Meta gave no specific reason. Compare the template with WhatsApp's template guidelines (format, "
        "category, policy) in WhatsApp Manager, or appeal within 24 hours of the decision."
    ),
}


def explain_rejection(reason: str | None, recommendation: str | None, *, detail: str | None = None) -> str:
    """Meta's reason code (and its own recommendation, when it gives one) -> what causes it and what to do."""
    code = (reason or "NONE").strip().upper() or "NONE"
    text = EXPLANATIONS.get(code) or (
        f"Meta rejected it with reason {code}. Check the template against WhatsApp's template guidelines in "
        "WhatsApp Manager, fix it and submit again."
    )
    if detail:
        text += f" Meta says: {detail.strip().rstrip('.')}."
    if recommendation:
        text += f" Meta recommends: {recommendation.strip().rstrip('.')}."
    return text
