"""Personal tokens (docs/api.md section 8): made, listed, revoked and checked.

A token is `squrl_` + 43 base64url characters (32 bytes from the CSPRNG). Only its SHA-256 is
stored, in the links table (a global table, so every region's authorizer can check it):

- `token#{sha256 hex}`: one token: id, owner, name, scopes, times, `revoked`;
- `token#{sha256 hex}#use`: its `last_used_at`, written by the authorizer of whichever region
  the token was used in. A separate item because global tables resolve concurrent writes per
  item, last writer wins: a use recorded on the token item in one region could overwrite a
  revocation made meanwhile in the home region and bring the token back;
- `tokens#{owner}`: the owner's live tokens (id -> hash) and recent creation times, so listing
  is one GetItem plus one BatchGetItem, and creation is rate limited, with no index.

`#` is outside the short-code alphabet, so neither key can ever be a short code; the items
carry no `owner_id`, `original_url` or `expires_at`, so no index lists them and TTL never
deletes them under a listing. Standard library and a DynamoDB client passed in: the authorizer
imports this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from typing import Any

from shared.contracts.auth import SCOPES, TOKEN_PREFIX
from shared.contracts.link_state import iso_utc
from shared.contracts.table import PARTITION_KEY

TOKEN_ITEM_PREFIX = "token#"
OWNER_TOKENS_PREFIX = "tokens#"
USE_SUFFIX = "#use"
SECRET_BYTES = 32
# `squrl_` + base64url of 32 bytes, unpadded.
TOKEN_LENGTH = len(TOKEN_PREFIX) + 43
TOKEN_ID_PREFIX = "tok_"
NAME_MAX = 100
DEFAULT_EXPIRES_IN_DAYS = 90
MAX_EXPIRES_IN_DAYS = 365
# Rate limits on creation (docs/identity.md): live tokens per owner, and creations per owner in
# any rolling hour.
MAX_LIVE_TOKENS = 50
MAX_CREATIONS_PER_HOUR = 20
CREATION_WINDOW_SECONDS = 3600
# `last_used_at` is written at most once per this many seconds per token: a successful check
# costs no write on most requests.
LAST_USED_GRANULARITY_SECONDS = 15 * 60
MAX_ATTEMPTS = 5


class TokenError(Exception):
    """Why a token operation was refused: `kind` is `not_found`, `rate_limited`, `too_many`,
    or `conflict`; `retry_after` for `rate_limited`."""

    def __init__(self, kind: str, retry_after: int = 0):
        super().__init__(kind)
        self.kind = kind
        self.retry_after = retry_after


def new_secret() -> str:
    raw = secrets.token_bytes(SECRET_BYTES)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_token_shaped(credential: str) -> bool:
    return credential.startswith(TOKEN_PREFIX) and len(credential) == TOKEN_LENGTH


def token_key(digest: str) -> str:
    return f"{TOKEN_ITEM_PREFIX}{digest}"


def use_key(digest: str) -> str:
    return f"{TOKEN_ITEM_PREFIX}{digest}{USE_SUFFIX}"


def owner_key(owner: str) -> str:
    return f"{OWNER_TOKENS_PREFIX}{owner}"


@dataclass(frozen=True)
class TokenRecord:
    id: str
    owner: str
    name: str
    scopes: tuple[str, ...]
    created_at: int
    expires_at: int
    revoked: bool
    last_used_at: int | None
    digest: str
    # The owner's email when the token was made by a signed-in user (GET /me shows it).
    email: str | None = None

    def usable(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at

    def view(self) -> dict[str, Any]:
        """The listing's (and the export's) shape: never the secret, never the hash."""
        return {
            "id": self.id,
            "name": self.name,
            "scopes": list(self.scopes),
            "created_at": iso_utc(self.created_at),
            "expires_at": iso_utc(self.expires_at),
            "last_used_at": iso_utc(self.last_used_at) if self.last_used_at else None,
        }


def _record(item: dict[str, Any]) -> TokenRecord:
    last = item.get("last_used_at")
    return TokenRecord(
        id=item["token_id"]["S"],
        owner=item["token_owner"]["S"],
        name=item["token_name"]["S"],
        scopes=tuple(value["S"] for value in item["scopes"]["L"]),
        created_at=int(item["token_created_at"]["N"]),
        expires_at=int(item["token_expires_at"]["N"]),
        revoked=bool(item.get("revoked", {}).get("BOOL", False)),
        last_used_at=int(last["N"]) if last else None,
        digest=item["token_hash"]["S"],
        email=item.get("owner_email", {}).get("S"),
    )


def _with_uses(items: list[dict[str, Any]]) -> list[TokenRecord]:
    """Token records from token items and use items, each with its latest `last_used_at`."""
    used = {
        item[PARTITION_KEY]["S"].removesuffix(USE_SUFFIX): int(item["last_used_at"]["N"])
        for item in items
        if item[PARTITION_KEY]["S"].endswith(USE_SUFFIX) and "last_used_at" in item
    }
    records = []
    for item in items:
        if item[PARTITION_KEY]["S"].endswith(USE_SUFFIX):
            continue
        record = _record(item)
        last = max(record.last_used_at or 0, used.get(token_key(record.digest), 0))
        records.append(replace(record, last_used_at=last or None))
    return records


def _is_conflict(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


class TokenStore:
    """Token items in the links table, through a low-level DynamoDB client."""

    def __init__(self, client: Any, table_name: str):
        self.client = client
        self.table = table_name
        # When this process last recorded each token's use (the token item no longer says).
        self._touched: dict[str, float] = {}

    # Checking ------------------------------------------------------------------------------

    def find(self, credential: str, *, consistent: bool = False) -> TokenRecord | None:
        """The token this credential is, or None. Refusals do not say why (revoked, expired
        and unknown look the same to the caller); the caller checks `usable`."""
        if not is_token_shaped(credential):
            return None
        digest = token_hash(credential)
        response = self.client.get_item(
            TableName=self.table,
            Key={PARTITION_KEY: {"S": token_key(digest)}},
            ConsistentRead=consistent,
        )
        item = response.get("Item")
        if not item:
            return None
        record = _record(item)
        # The key already matched; compared again in constant time so that no code path
        # depends on a byte-by-byte comparison of secret material.
        return record if hmac.compare_digest(record.digest, digest) else None

    def touch(self, record: TokenRecord, now: float) -> bool:
        """Record a use, at most once per LAST_USED_GRANULARITY_SECONDS. True if written.

        Writes only the token's use item, never the token item: a stale record can never
        overwrite a revocation, here or (last writer wins) in another region's replica."""
        last = max(record.last_used_at or 0, self._touched.get(record.digest, 0))
        if last and now - last < LAST_USED_GRANULARITY_SECONDS:
            return False
        self._touched[record.digest] = now
        while len(self._touched) > 10_000:
            self._touched.pop(next(iter(self._touched)))
        try:
            self.client.update_item(
                TableName=self.table,
                Key={PARTITION_KEY: {"S": use_key(record.digest)}},
                UpdateExpression="SET last_used_at = :now",
                ConditionExpression="attribute_not_exists(last_used_at) OR last_used_at <= :stale",
                ExpressionAttributeValues={
                    ":now": {"N": str(int(now))},
                    ":stale": {"N": str(int(now) - LAST_USED_GRANULARITY_SECONDS)},
                },
            )
        except Exception as error:
            if _is_conflict(error):
                return False
            raise
        return True

    # Managing ------------------------------------------------------------------------------

    def _owner_item(self, owner: str) -> tuple[dict[str, str], list[int], int | None]:
        """(live token ids -> hashes, recent creation times, version or None if no item)."""
        response = self.client.get_item(
            TableName=self.table,
            Key={PARTITION_KEY: {"S": owner_key(owner)}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return {}, [], None
        ids = {k: v["S"] for k, v in item.get("token_ids", {}).get("M", {}).items()}
        recent = [int(v["N"]) for v in item.get("recent_creations", {}).get("L", [])]
        return ids, recent, int(item["token_version"]["N"])

    def _owner_put(
        self, owner: str, ids: dict[str, str], recent: list[int], version: int | None
    ) -> dict[str, Any]:
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                PARTITION_KEY: {"S": owner_key(owner)},
                "token_ids": {"M": {k: {"S": v} for k, v in ids.items()}},
                "recent_creations": {"L": [{"N": str(t)} for t in recent]},
                "token_version": {"N": str((version or 0) + 1)},
            },
        }
        if version is None:
            put["ConditionExpression"] = "attribute_not_exists(#pk)"
            put["ExpressionAttributeNames"] = {"#pk": PARTITION_KEY}
        else:
            put["ConditionExpression"] = "#v = :read"
            put["ExpressionAttributeNames"] = {"#v": "token_version"}
            put["ExpressionAttributeValues"] = {":read": {"N": str(version)}}
        return {"Put": put}

    def create(
        self,
        owner: str,
        name: str,
        scopes: tuple[str, ...],
        expires_in_days: int,
        now: float,
        *,
        email: str | None = None,
        limited: bool = True,
        expires_at: int | None = None,
    ) -> tuple[TokenRecord, str]:
        """A new token for `owner`: (its record, the secret, shown once). `limited=False`
        (the local server's own start-up token) skips the creation rate limits; `expires_at`
        overrides the expiry `expires_in_days` gives (a child token capped at its parent's)."""
        for _ in range(MAX_ATTEMPTS):
            ids, recent, version = self._owner_item(owner)
            recent = [t for t in recent if t > now - CREATION_WINDOW_SECONDS]
            if limited:
                self._check_limits(ids, recent, now)
            secret = new_secret()
            record = TokenRecord(
                id=TOKEN_ID_PREFIX + secrets.token_hex(8),
                owner=owner,
                name=name,
                scopes=tuple(s for s in SCOPES if s in scopes),
                created_at=int(now),
                # `expires_at`: a token's child never outlives it (account.check_parent_expiry).
                expires_at=expires_at or int(now) + expires_in_days * 86400,
                revoked=False,
                last_used_at=None,
                digest=token_hash(secret),
                email=email,
            )
            token_put = {
                "Put": {
                    "TableName": self.table,
                    "Item": self._token_item(record),
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                }
            }
            owner_put = self._owner_put(
                owner, {**ids, record.id: record.digest}, [*recent, int(now)], version
            )
            try:
                self.client.transact_write_items(TransactItems=[token_put, owner_put])
            except Exception as error:
                if _is_conflict(error):
                    continue
                raise
            return record, secret
        raise TokenError("conflict")

    @staticmethod
    def _check_limits(ids: dict[str, str], recent: list[int], now: float) -> None:
        if len(recent) >= MAX_CREATIONS_PER_HOUR:
            retry = int(min(recent) + CREATION_WINDOW_SECONDS - now) + 1
            raise TokenError("rate_limited", retry_after=max(1, retry))
        if len(ids) >= MAX_LIVE_TOKENS:
            raise TokenError("too_many")

    def _token_item(self, record: TokenRecord) -> dict[str, Any]:
        email = {"owner_email": {"S": record.email}} if record.email else {}
        return {
            **email,
            PARTITION_KEY: {"S": token_key(record.digest)},
            "token_hash": {"S": record.digest},
            "token_id": {"S": record.id},
            "token_owner": {"S": record.owner},
            "token_name": {"S": record.name},
            "scopes": {"L": [{"S": s} for s in record.scopes]},
            "token_created_at": {"N": str(record.created_at)},
            "token_expires_at": {"N": str(record.expires_at)},
            "revoked": {"BOOL": False},
        }

    def list(self, owner: str) -> list[TokenRecord]:
        """The owner's live (not revoked) tokens, newest first, expired ones included."""
        ids, _, _ = self._owner_item(owner)
        if not ids:
            return []
        # Each token item and its use item: at most 2 * MAX_LIVE_TOKENS = 100 keys, one batch.
        keys = [
            {PARTITION_KEY: {"S": key(digest)}}
            for digest in ids.values()
            for key in (token_key, use_key)
        ]
        items: list[dict[str, Any]] = []
        for _ in range(MAX_ATTEMPTS):
            response = self.client.batch_get_item(
                RequestItems={self.table: {"Keys": keys, "ConsistentRead": True}}
            )
            items.extend(response.get("Responses", {}).get(self.table, []))
            keys = response.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
            if not keys:
                break
        records = _with_uses(items)
        live = [r for r in records if not r.revoked and r.owner == owner]
        return sorted(live, key=lambda r: (r.created_at, r.id), reverse=True)

    def get(self, owner: str, token_id: str) -> TokenRecord | None:
        """One of the owner's live tokens by id, read consistently; None for any other id."""
        ids, _, _ = self._owner_item(owner)
        digest = ids.get(token_id)
        if digest is None:
            return None
        response = self.client.get_item(
            TableName=self.table,
            Key={PARTITION_KEY: {"S": token_key(digest)}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        record = _record(item) if item else None
        return record if record and record.owner == owner and not record.revoked else None

    def revoke(self, owner: str, token_id: str, now: float) -> None:
        """Revoke one of the owner's tokens; TokenError(`not_found`) for any other id."""
        for _ in range(MAX_ATTEMPTS):
            ids, recent, version = self._owner_item(owner)
            digest = ids.get(token_id)
            if digest is None:
                raise TokenError("not_found")
            remaining = {k: v for k, v in ids.items() if k != token_id}
            mark = {
                "Update": {
                    "TableName": self.table,
                    "Key": {PARTITION_KEY: {"S": token_key(digest)}},
                    "UpdateExpression": "SET revoked = :yes, revoked_at = :now",
                    "ExpressionAttributeValues": {
                        ":yes": {"BOOL": True},
                        ":now": {"N": str(int(now))},
                    },
                }
            }
            try:
                self.client.transact_write_items(
                    TransactItems=[mark, self._owner_put(owner, remaining, recent, version)]
                )
            except Exception as error:
                if _is_conflict(error):
                    continue
                raise
            return
        raise TokenError("conflict")

    def revoke_all(self, owner: str, now: float) -> int:
        """Revoke every token of the owner; how many were revoked."""
        count = 0
        for record in self.list(owner):
            try:
                self.revoke(owner, record.id, now)
                count += 1
            except TokenError as error:
                if error.kind != "not_found":
                    raise
        return count
