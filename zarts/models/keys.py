"""Match keys for duplicate detection, kept on the row so a lookup is one index probe.

`company_key` is the company (or client) name lower-cased, with accents, punctuation and legal-form
suffixes ("GmbH", "Ltd", "Inc.") removed: "ACME GmbH", "Acme" and "acme, inc." share "acme".
`email_key` is the contact email lower-cased; `email_domain` is its domain unless it is a free-mail
provider (gmail.com says nothing about the company). The keys are set before every INSERT and
UPDATE of a lead or a client by the listeners below, whichever path wrote the row; a bulk insert
(the import) computes them with the same functions.
"""

from __future__ import annotations

import re
import unicodedata

LEGAL_SUFFIXES = frozenset(
    {
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "ug",
        "ohg",
        "gbr",
        "ev",
        "se",
        "co",
        "kgaa",
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "company",
        "sa",
        "sas",
        "sarl",
        "sl",
        "srl",
        "spa",
        "bv",
        "nv",
        "ab",
        "as",
        "aps",
        "oy",
        "oyj",
        "pty",
        "pte",
        "the",
    }
)
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.de",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.de",
        "outlook.com",
        "outlook.de",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "t-online.de",
        "proton.me",
        "protonmail.com",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "fastmail.com",
        "posteo.de",
        "freenet.de",
    }
)
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def company_key(name: str | None) -> str | None:
    """'ACME GmbH & Co. KG' -> 'acme'; None when nothing is left."""
    if not name:
        return None
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = text.replace("&", " ")
    words = [w for w in _NOT_WORD.split(text) if w]
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    while len(words) > 1 and words[0] == "the":
        words.pop(0)
    key = " ".join(words)[:200]
    return key or None


def email_key(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email[:254] or None


def email_domain(email: str | None) -> str | None:
    """The company's domain from a contact email ('ana@shop.acme.de' -> 'shop.acme.de'), or None for
    a free-mail address or no address."""
    key = email_key(email)
    if not key or "@" not in key:
        return None
    domain = key.rsplit("@", 1)[1].strip(".")
    if not domain or domain in FREE_MAIL:
        return None
    return domain[:120]


def domain_of(website: str | None) -> str | None:
    """A website or email as a bare domain ('https://www.Acme.de/x' -> 'acme.de'); None if none."""
    text = (website or "").strip().lower()
    if not text:
        return None
    if "@" in text and "/" not in text:
        return email_domain(text)
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].strip(".")
    if text.startswith("www."):
        text = text[4:]
    if not text or "." not in text or text in FREE_MAIL:
        return None
    return text[:120]


def install(lead_cls, client_cls) -> None:
    import sqlalchemy as sa

    def _lead_keys(mapper, connection, target):
        target.company_key = company_key(target.company)
        target.email_key = email_key(target.contact_email)
        target.email_domain = email_domain(target.contact_email)

    def _client_keys(mapper, connection, target):
        target.name_key = company_key(target.name)
        target.domain = domain_of(target.domain)

    for kind in ("before_insert", "before_update"):
        sa.event.listen(lead_cls, kind, _lead_keys)
        sa.event.listen(client_cls, kind, _client_keys)
