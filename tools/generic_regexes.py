#!/usr/bin/env python3
"""Builds the long regexes of detectors/generic.toml and detectors/allowlist.toml from named
building blocks, so that the key grammar, value classes and word lists stay consistent.

    python3 tools/generic_regexes.py          # rewrite the generated lines in place
    python3 tools/generic_regexes.py --check  # exit 1 if a file is out of date

In generic.toml the `regex = '''…'''` line of every rule listed in RULES is rewritten. In
allowlist.toml, each line that follows a comment `# generated: NAME` is replaced by the regex
ALLOW[NAME]. Everything else in both files (descriptions, examples, comments) is hand-written.
After regenerating, run `cargo test --test suite rules::`.

Design notes (see also the header of generic.toml):
- Unanchored branches START AT THE CREDENTIAL WORD (`token`, `password`, …): a bounded
  `[\\w.-]{0,30}` prefix before the word makes the lazy DFA track up to 30 start positions at
  once and measurably slows every window. Only branches anchored at a line start or a quote
  carry a key prefix. The words before the credential word are judged by line-level allowlists.
- Values are bounded and exclude blanks, control bytes and template syntax.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERIC = ROOT / "detectors" / "generic.toml"
ALLOWLIST = ROOT / "detectors" / "allowlist.toml"

# ---------------------------------------------------------------------------------------------
# Rule building blocks.

EXC = r"\s\x00-\x1f\x7f-\xff"  # blanks and control / non-ASCII bytes: never in a value
# Credential words of the token/secret rules. Compound words list their `_ . -` spellings
# explicitly so that the regex analysis can prove every match contains one of the keywords.
SW = r"(?:secret|token|credential|api[_.-]key|apikey|access[_.-]key|accesskey|private[_.-]key|privatekey|auth[_.-]key|authkey|signing[_.-]key|encryption[_.-]key|master[_.-]key)"
PWW = r"(?:password|passwd|passphrase|passcode)"
# Keys with any prefix (only after an anchor: line start, a quote, `<`).
PWKEY = r"(?:[\w.-]{0,30}?" + PWW + r"[\w.-]{0,20}|(?:[\w.-]{0,30}[_.-]|\b)(?:pass|pwd)\b|[\w.-]{0,30}[a-zA-Z0-9](?-i:Pass|Pwd)\b)"
SKEY = r"(?:[\w.-]{0,30}?" + SW + r"[\w.-]{0,20})"
# Keys from the credential word on (unanchored branches). `pass`/`pwd` need a left boundary
# (`db_pass`, `dbPass`, not `bypass`).
PWKEYN = r"(?:" + PWW + r"[\w.-]{0,20}|(?:\b|[_.-])(?:pass|pwd)\b|[a-zA-Z0-9](?-i:Pass|Pwd)\b)"
SKEYN = r"(?:" + SW + r"[\w.-]{0,20})"
# Quoted keys followed by `,` (put("mail.smtp.password", "…")): the word ends the key.
PWKEYC = r"(?:[\w.-]{0,20}[_.-])?(?:password|passwd|passphrase|passcode|pass|pwd)"
SKEYC = r"(?:[\w.-]{0,20}[_.-])?" + SW
TYPE = r"(?::[ \t]{0,4}[\w&'.<>\[\]]{1,24}[ \t]{0,4})?"  # password: str =, TOKEN: &str =
OP = r"(?:=>|:=|\|\|=|\?\?=|=|:)"  # never `==`
# Blanks around the operator: formatters align `=` and values in columns (`terraform fmt`,
# gofmt, Terraform's plan output), so a key can stand far from its value.
ALIGN = r"[ \t]{0,32}"


def quoted(first, rest, lo, hi, backtick=True):
    """A value between matching quotes; `Q` in the classes stands for the quote character."""
    parts = []
    for q in ['"', "'"] + (["`"] if backtick else []):
        parts.append(q + "(" + first.replace("Q", q) + rest.replace("Q", q) + "{%d,%d})" % (lo - 1, hi - 1) + q)
    return "(?:" + "|".join(parts) + ")"


PW_FIRST = r"[^Q" + EXC + r"\\-]"  # a password does not start with `-` (a flag)
PW_REST = r"[^Q" + EXC + r"\\]"
TOK = r"[\w+/=.~!#%^&*|-]"  # token alphabet: base64, base64url, hex, JWT dots, a few symbols
# After the first byte a secret may also hold `@` and `$` (`P@ssw0rd1$` assigned to a secret
# name); a first `$` is a reference, a first `@` a decorator or a Maven filter.
TOK_REST = r"[\w+/=.~!#%^&*|@$-]"


def assignment(key_pfx, key, keyc, first, rest, lo, hi):
    """Code and quoted-config assignments:
    1. at a line start, blanks between key and value: `#define API_TOKEN "…"`, `storePassword "…"`;
    2. a quoted key, `,`, a quoted value: `put("password", "…")`, `define('API_KEY', '…')`;
    3. key, optional type, operator, quoted value: `api_key = "…"`, `"token": "…"`, `:pass => '…'`;
    4. key `(` quoted value `)`: `setPassword("…")`, `.apiKey("…")`.
    Branches 3 and 4 share their key so that the literal set stays under the analysis limit."""
    v3 = quoted(first, rest, lo, hi, True)
    v2 = quoted(first, rest, lo, hi, False)
    return (
        r"(?imR)(?:(?:^[ \t]{0,4}(?:#[ \t]{0,4}define[ \t]{1,8})?" + key_pfx + r"[ \t]{1,8}"
        + r"|[\"']" + keyc + r"[\"'][ \t]{0,4},[ \t]{0,4})" + v2
        + "|" + key + r"(?:[\"'`]?" + ALIGN + TYPE + OP + ALIGN + r"[rbu@]?" + v3
        + r"|[ \t]{0,4}\([ \t]{0,4}" + v2 + r"[ \t]{0,4}\)))"
    )


ANSI = r"\x1b\[[0-9;]{0,16}m"
# Where a config-style key starts: at a line start (after a diff's `+`/`-`), or after a blank,
# `[`, `,`, `>`, `|` or an ANSI colour sequence -- behind whatever a tool prints in front of the
# line: `+ export ` and `++ ` (set -x), `web-1  | ` (compose), timestamps, `#12 0.345 `
# (buildkit), `ENV `, `[pod/x/y] ` (kubectl --prefix), `> `, `- `, logfmt fields, a JSON list
# of `KEY=value` strings (docker inspect's `Env`). One byte of left context, not a prefix
# grammar: the key prefix after it stays the only bounded repetition before the credential word.
KEY_START = r"(?:^[+-]?|[ \t\[,>|]|" + ANSI + ")"
# Dockerfile's `ENV KEY value` (the legacy form without `=`), at a line start or after a blank
# (`Step 4/9 : ENV …`). A rule of its own: as a branch of the config rules, its `ENV` literal
# would be what the regex analysis picks as every match's literal instead of the keywords.
ENV_SPACE = r"(?:^|[ \t])(?-i:ENV)[ \t]{1,8}"
U_EXC = EXC + r"\"'`$<>(){}\[\];,\\"
# An unquoted value ends at a blank, a CR, the line's end, the quote that closes a quoted
# assignment (`+ export 'K=v!'` from set -x, `"K=v"` in docker inspect's `Env`), or an ANSI
# colour sequence (a line printed in colour).
U_END = r"(?:[ \t\r\"'\x1b]|$)"


def config_values(lo, hi):
    """Unquoted values: after `=` (.env, INI, properties), and after `: ` (YAML, where a
    leading `* & ! | > # % @` is syntax, not a value). `$` may occur after the first byte (a
    `$` first is a reference)."""
    rest = "[^" + U_EXC.replace("$", "") + "]{%d,%d}" % (lo - 1, hi - 1)
    return "([^" + U_EXC + "=]" + rest + ")", "([^" + U_EXC + "=*&!|>#%@]" + rest + ")"


def config_rule(key, eq_value, colon_value, colon_op=r":[ \t]{1,8}", flags="(?imR)", start=""):
    """A config line: KEY_START (or `start`), the key, then `=` or `: ` and the value."""
    return (flags + "(?:" + start + KEY_START + r")[\"']?" + key + r"[\"']?[ \t]{0,8}(?:=[ \t]{0,8}" + eq_value
            + "|" + colon_op + colon_value + ")" + U_END)


XW = r"(?:password|passwd|passphrase|passcode|" + SW[3:-1] + ")"
XK = r"(?:[\w.-]{0,30}?" + XW[:-1] + r")[\w.-]{0,30}|(?:[\w.-]{0,30}[_.-])?(?:pass|pwd)|[\w.-]{0,30}[a-z0-9](?-i:Pass|Pwd))"
XKA = r"(?:[\w.:-]{0,40}?" + XW[:-1] + r")[\w.:-]{0,30}|(?:[\w.:-]{0,30}[_.:-])?(?:pass|pwd)|[\w.:-]{0,30}[a-z0-9](?-i:Pass|Pwd))"

# Keys of config lines: as PWKEY/SKEY, but not starting with `-` (after a blank, `--token=…`
# is a command-line flag: generic-cli-credential's).
CFG_PFX = r"(?:[\w.][\w.-]{0,29}?)?"
PW_CFG_KEY = r"(?:" + CFG_PFX + PWW + r"[\w.-]{0,30}|(?:" + CFG_PFX + r"[_.-])?(?:pass|pwd)|" + CFG_PFX + r"[a-zA-Z0-9](?-i:Pass|Pwd))"
S_CFG_KEY = r"(?:" + CFG_PFX + SW + r"[\w.-]{0,20})"
TOK_VALUE = r"([\w+/.~^]" + TOK_REST + r"{5,199})"
ENV_KEY_VALUE = r"[\"']?((?:base64:)?[A-Za-z0-9+/=_.~-]{16,256})[\"']?"
# Terraform plans: a string as `terraform plan` prints it (Go-quoted), the old value of a
# change, and the arrow between old and new (coloured `[yellow]->[reset]` on a terminal).
TF_STR = r'(?:[^"\\\x00-\x1f\x7f]|\\[\x20-\x7e]){0,256}'
TF_OLD = r'(?:"' + TF_STR + r'"|\(sensitive value\)|null)'
TF_ARROW = r"[ \t]{1,4}(?:" + ANSI + r")?->(?:" + ANSI + r")?[ \t]{1,4}"

RULES = {
    "generic-password": assignment(PWKEY, PWKEYN, PWKEYC, PW_FIRST, PW_REST, 6, 128),
    "generic-secret": assignment(SKEY, SKEYN, SKEYC, TOK, TOK_REST, 6, 200),
    "generic-password-config": config_rule(PW_CFG_KEY, *config_values(6, 128)),
    "generic-secret-config": config_rule(S_CFG_KEY, TOK_VALUE, TOK_VALUE, r":[ \t]{1,9}",
                                         start=r"(?:-H|--header)[ \t]{0,8}[\"']?|"),
    "generic-env-key": config_rule(r"[A-Z][A-Z0-9_]{0,40}_KEY", ENV_KEY_VALUE, ENV_KEY_VALUE,
                                   r":[ \t]{1,9}", flags="(?mR)"),
    "generic-dockerfile-env": "(?imR)" + ENV_SPACE + r"[\"']?(?:" + PW_CFG_KEY + "|" + S_CFG_KEY + r")[\"']?[ \t]{1,8}"
    + config_values(6, 128)[0] + U_END,
    "generic-terraform-change": r"(?i)(?:" + PWKEYN + "|" + SKEYN + r")[\"']?[ \t]{0,32}=[ \t]{0,32}" + TF_OLD
    + TF_ARROW + r'"(' + TF_STR.replace("{0,256}", "{1,256}") + r')"',
    "generic-xml-credential": r"(?i)<(?:[\w.-]{1,30}:)?" + XK + r">[ \t]{0,8}([^<>" + EXC + r"\"'`$]{6,256})[ \t]{0,8}</",
    # `key|name|id` and `va(?:lue)?` are written so that the keyword set, not these attribute
    # names, is what the regex analysis picks as the literals every match contains.
    "generic-xml-keyvalue": r"(?i)(?:key|name|id)[ \t]{0,8}=[ \t]{0,8}\"" + XKA
    + r"\"[ \t]{1,8}va(?:lue)?[ \t]{0,8}=[ \t]{0,8}\"([^\"<>" + EXC + r"$]{6,256})\"",
}

# `follow` gates (src/rules/follow.rs): what must come right after the credential word for a
# window to be searched at all. Each is a necessary condition of its rule's regex, written from
# the same blocks: the rest of the key after the word (`word`/`phrase`/`code` after `pass`,
# then the key's tail), then what the regex demands next (an operator, a quote, `(`, `>`).
# Weaker than the regex is fine; stronger would lose matches (the rule's examples catch that).
SW_TAIL = r"[\w.-]{0,20}"  # SKEYN / S_CFG_KEY after the credential word
PW_TAIL = r"[\w.-]{0,26}"  # `pass` + `phrase` + PWKEYN's [\w.-]{0,20}
PW_CFG_TAIL = r"[\w.-]{0,36}"  # `pass` + `phrase` + PW_CFG_KEY's [\w.-]{0,30}
ASSIGN_NEXT = r"(?:[\"'`]?" + ALIGN + r"[=:|?]|[ \t]{1,8}[\"']|[ \t]{0,4}\(|[\"'][ \t]{0,4},)"
CONFIG_NEXT = r"[\"']?[ \t]{0,8}[=:]"
U_FIRST = "[^" + U_EXC + "=]"
FOLLOW = {
    "generic-password": PW_TAIL + ASSIGN_NEXT,
    "generic-secret": SW_TAIL + ASSIGN_NEXT,
    "generic-password-config": PW_CFG_TAIL + CONFIG_NEXT,
    "generic-secret-config": SW_TAIL + CONFIG_NEXT,
    "generic-env-key": CONFIG_NEXT,
    "generic-dockerfile-env": PW_CFG_TAIL + r"[\"']?[ \t]{1,8}" + U_FIRST,
    "generic-terraform-change": PW_TAIL + r"[\"']?" + ALIGN + "=" + ALIGN + r"(?:\"|\(|[nN])",
    "generic-xml-credential": PW_CFG_TAIL + ">",
    "generic-xml-keyvalue": r"[\w.:-]{0,36}\"[ \t]{1,8}[vV]",
}

# `\"` in the raw strings above is a plain `"` to the regex: drop the backslash (no pattern
# here contains an escaped backslash before a quote).
RULES = {k: v.replace('\\"', '"') for k, v in RULES.items()}
FOLLOW = {k: v.replace('\\"', '"') for k, v in FOLLOW.items()}

# ---------------------------------------------------------------------------------------------
# Key-name allowlists (generic rules only).

# A component of the matched key after (or, for rules whose match starts at the line, around)
# the credential word that says the value is metadata, not the credential: token_url,
# password_hash, secretName, TOKEN_ENV_VAR, password.encode(…), --token-file.
SUFFIX_WORDS = """
age alg algorithm alphabet array ask assert attr attribute audience backward begin blob buf
buffer button cache callback caption cert certificate change changed characters chars charset
check checksum cipher ciphertext class close color colour column compare complexity
configuration configurations continuation count create created css cursor date decode decrypt
delete delim delimiter desc description dialog dict digest digits dir directory disable
disabled dummy duration enable enabled encode encoding encrypt encrypted end endpoint ensure
envvar err error escape etag example expect expiration expire expires expiry factory fake fetch
field fields file filename files find fingerprint flag flags fmt folder foreign form format
forward gen generate get gpg guid handler has hash hashed header headers help hint hostname html
icon id idempotency ids idx image img index input integrity is issuer join kind label last len
length letters lifetime limit list load location log lookup lower make manager map marker mask
match matches max md5 message method methods mfa min mock mode module msg next nonce num number
offset open page pagination paging param parameter params parse partition path pattern pgp
placeholder plugin policies policy pos prefix prev previous print prompt prop property ptr pub
pubkey public queue quote re read redact ref regex regexp remove replace require required reset
revoke rotate rule rules salt sample sanitize scheme scope scopes sep separator sha sha1 sha256
sha384 sha512 size sort split stack start starting state status stdin strength strip style
suffix symbols table template text time timeout timestamp title tmpl tokenize tokenized
tokenizer tokens tooltip tpl ttl type types unquote update updated upper uri url urls used uuid
validate validation validator validity var variable verify version widget
""".split()
# File extensions as key components (snake_case only): token_json, ssl_key_pem.
EXT_WORDS = "cfg conf crt der ini jks json p12 pem pfx properties txt xml yaml yml".split()
# Words that, BEFORE the credential word in the same key, make it metadata or an operation:
# page_token, nextToken, public_key, hashPassword(…), check_password(…), csrf_token.
PREFIX_WORDS = """
checksum continuation count csrf cursor digest dummy etag example expiration expires expiry
fake fingerprint format guid hash hashed idempotency integrity kind len length lifetime limit
marker max md5 min mock mode next nonce num page pagination paging pattern placeholder prev
previous pub public regex salt sample sha sha1 sha256 sha384 sha512 size starting timeout ttl
type uuid xsrf
""".split()
VERBS = """
get check verify validate encrypt decrypt compare find load read fetch lookup parse decode
encode generate gen create make reset rotate revoke delete remove mask redact sanitize is has
print log assert expect require ensure update change match matches split join quote unquote
escape strip prompt ask
""".split()
KW_ANY = r"password|passwd|passphrase|passcode|pass|pwd|secret|token|credential|api[_.-]?key|access[_.-]?key|private[_.-]?key|auth[_.-]?key|signing[_.-]?key|encryption[_.-]?key|master[_.-]?key"
KW_CAP = r"Password|Passwd|Passphrase|Passcode|Pass|Pwd|Secret|Token|Credential|Api_?[Kk]ey|Access_?[Kk]ey|Private_?[Kk]ey|Auth_?[Kk]ey|Key|PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|AUTH_?KEY|KEY"


def alt(words, cap=False):
    ws = sorted(set(words), key=lambda w: (-len(w), w))  # longest first
    return "|".join(w[0].upper() + w[1:] if cap else w for w in ws)


# Where the key starts in a match: after an ANSI colour, blanks / `export ` / `ENV ` / `- ` /
# `-H "`, or inside the
# XML `key="…"` attribute; then a little punctuation (`"`, `$`, `--`, `<`) and an XML prefix.
MATCH_START = r"""^(?:\x1b\[[0-9;]*m)?(?:[ \t]*(?:(?:export|set|declare[ \t]+-x|ENV)[ \t]+|-[ \t]+|(?:-H|--header)[ \t]*["']?)?|(?:key|name|id)[ \t]*=[ \t]*")[^\w\s]{0,4}(?:[\w.-]{1,30}:)?"""

SUF = SUFFIX_WORDS + VERBS
ALLOW = {
    # A whole component (between `_ . -` or the key's ends), any case. `name` only as a later
    # component, since the XML key/value rule's match starts with `name="`; `env` likewise,
    # since Dockerfile's `ENV KEY value` starts a match (`TOKEN_ENV` is metadata, `ENV` alone
    # is not a key).
    "key-component": "(?i)" + MATCH_START + "(?:(?:[\\w.-]*[_.-])?(?:" + alt(SUF + EXT_WORDS)
    + ")|[\\w.-]*[_.-](?:name|names|env))(?:[_.-][\\w.-]*)?[^\\w.-]",
    # The same words capitalised in camelCase / PascalCase keys.
    "key-component-camel": MATCH_START + "(?:[\\w.-]*?[a-z0-9])?(?:" + alt(SUF + ["name", "names", "env"], cap=True)
    + ")(?:[A-Z0-9_.-][\\w.-]*)?[^\\w.-]",
    "key-prefix": "(?i)(?:^|[^\\w.-])(?:[\\w.-]*?[_.-])?(?:" + alt(PREFIX_WORDS + VERBS) + ")[_.-][\\w.-]*?(?:" + KW_ANY + ")",
    "key-prefix-camel": "(?:(?:^|[^\\w.-])(?:[\\w.-]*?[_.-])?(?:" + alt(PREFIX_WORDS + VERBS) + "|"
    + alt(PREFIX_WORDS + VERBS, cap=True) + ")|[a-z0-9](?:" + alt(PREFIX_WORDS + VERBS, cap=True) + "))(?:"
    + KW_CAP + "|[A-Z][\\w.-]*?(?i:" + KW_ANY + "))",
    "key-prefix-glued": "(?i)(?:^|[^\\w.-])(?:" + "|".join(VERBS) + ")(?:" + KW_ANY + ")",
}

# ---------------------------------------------------------------------------------------------


def rewrite_generic(text):
    out, cur, done = [], None, set()
    for line in text.split("\n"):
        m = re.match(r'id = "([^"]+)"', line)
        if m:
            cur = m.group(1)
        if line.startswith("follow = '''") and cur in FOLLOW:
            continue  # written right after the regex line, below
        if line.startswith("regex = '''") and cur in RULES:
            line = "regex = '''" + RULES[cur] + "'''"
            done.add(cur)
            if cur in FOLLOW:
                line += "\nfollow = '''" + FOLLOW[cur] + "'''"
        out.append(line)
    missing = set(RULES) - done
    if missing:
        sys.exit(f"generic.toml has no rule {sorted(missing)}")
    return "\n".join(out)


def rewrite_allowlist(text):
    lines, done = text.split("\n"), set()
    for i, line in enumerate(lines):
        m = re.match(r"\s*# generated: ([\w-]+)", line)
        if m:
            name = m.group(1)
            if name not in ALLOW:
                sys.exit(f"allowlist.toml: unknown generated regex {name}")
            indent = re.match(r"\s*", lines[i + 1]).group(0)
            lines[i + 1] = indent + "'''" + ALLOW[name] + "''',"
            done.add(name)
    missing = set(ALLOW) - done
    if missing:
        sys.exit(f"allowlist.toml has no `# generated:` marker for {sorted(missing)}")
    return "\n".join(lines)


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for path, fn in ((GENERIC, rewrite_generic), (ALLOWLIST, rewrite_allowlist)):
        old = path.read_text()
        new = fn(old)
        if new != old:
            stale.append(path.name)
            if not check:
                path.write_text(new)
    if check and stale:
        sys.exit(f"out of date: {', '.join(stale)} (run python3 tools/generic_regexes.py)")
    print(("stale: " if check else "rewrote: ") + (", ".join(stale) or "nothing"))


if __name__ == "__main__":
    main()
