"""The compliance profile: one validated source of truth held in the stack's config (`avg-voip:profile`).

Everything else — the Pulumi resources, the Ansible variables, the rule bounds and the processing register —
is derived from it. A profile that does not validate stops the program before any resource is registered.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from avg_voip.residency import EU_EEA_COUNTRIES, ISO_3166_ALPHA2, Catalogue, LegalStatus, load_catalogue


class ProfileError(ValueError):
    """A profile that cannot be used. `key` is the dotted path of the offending value."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


NonEmpty = Annotated[str, Field(min_length=1)]


class Provider(enum.StrEnum):
    AWS = "aws"
    HCLOUD = "hcloud"


class RiskLevel(enum.StrEnum):
    STANDARD = "standard"
    # healthcare, legal and financial advice: CMK mandatory, shorter QA retention bounds
    SENSITIVE = "sensitive"


class LegalBasis(enum.StrEnum):
    """Art. 6(1)(a)-(f) grounds."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTEREST = "legitimate_interest"

    @property
    def article(self) -> str:
        return {
            "consent": "6(1)(a)",
            "contract": "6(1)(b)",
            "legal_obligation": "6(1)(c)",
            "vital_interests": "6(1)(d)",
            "public_task": "6(1)(e)",
            "legitimate_interest": "6(1)(f)",
        }[self.value]


class DataKind(enum.StrEnum):
    TRAFFIC = "traffic"  # call metadata, CDRs, IVR choices, wait times
    CONTENT = "content"  # recordings, transcripts
    DIRECTORY = "directory"
    EMPLOYEE = "employee"
    AUDIT = "audit"  # login and access logs


class Storage(enum.StrEnum):
    RECORDINGS_STORE = "recordings_store"  # S3 recordings bucket (AWS) or encrypted host volume (Hetzner)
    METADATA_STORE = "metadata_store"  # S3 metadata bucket (AWS) or host volume (Hetzner)
    AUDIT_LOG_STORE = "audit_log_store"  # CloudTrail log bucket (AWS) or host journal/auditd (Hetzner)
    HOST_DATABASE = "host_database"  # directory and user profiles in the SIP server's database


class RetentionClass(enum.StrEnum):
    """Why a category is kept; each class has an upper bound in days (see RETENTION_BOUNDS)."""

    QUALITY_ASSURANCE = "quality_assurance"
    TRAINING = "training"
    LEGAL_OBLIGATION = "legal_obligation"
    OPERATIONS = "operations"  # traffic data for routing, billing and disputes
    SECURITY_LOGGING = "security_logging"
    DIRECTORY = "directory"
    EMPLOYMENT = "employment"


# Upper bounds in days per retention class: (ordinary data, special-category data such as health). The AVG
# sets no fixed period (Art. 5(1)(e)); these bounds encode what a privacy officer accepts without a separate
# justification: QA recordings 30-90 days, and weeks where callers discuss their health. A legal obligation may
# go up to ten years; anything beyond is refused.
RETENTION_BOUNDS: dict[RetentionClass, tuple[int, int]] = {
    RetentionClass.QUALITY_ASSURANCE: (90, 42),
    RetentionClass.TRAINING: (180, 90),
    RetentionClass.LEGAL_OBLIGATION: (3650, 3650),
    RetentionClass.OPERATIONS: (400, 400),
    RetentionClass.SECURITY_LOGGING: (730, 730),
    RetentionClass.DIRECTORY: (730, 730),
    RetentionClass.EMPLOYMENT: (730, 730),
}


def retention_bound(retention_class: RetentionClass, special_categories: bool) -> int:
    ordinary, special = RETENTION_BOUNDS[retention_class]
    return special if special_categories else ordinary


_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{1,40}$")
_SSH_KEY = re.compile(r"^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]{60,}( \S.*)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# hosts.image per provider: the AWS program passes it to the instance as an AMI id; Hetzner takes an image name
# (debian-12, ubuntu-24.04) or a snapshot id.
_AWS_IMAGE = re.compile(r"ami-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_HCLOUD_IMAGE = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")


def _country(v: str) -> str:
    if v not in ISO_3166_ALPHA2:
        raise ValueError(f"{v!r} is not an ISO 3166-1 alpha-2 country code (e.g. NL, DE, US)")
    return v


def _hostname(v: str) -> str:
    """A DNS host name: at least two dot-separated RFC 1123 labels, at most 253 characters, not an address."""
    labels = v.split(".")
    if (
        len(v) > 253
        or len(labels) < 2
        or not all(_DNS_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError(
            "must be a DNS name: dot-separated labels of letters, digits and inner '-', 1-63 characters "
            "each (RFC 1123), e.g. sip.example.nl"
        )
    return v


CountryCode = Annotated[str, AfterValidator(_country)]


class Contact(_Strict):
    name: NonEmpty
    email: NonEmpty
    phone: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not _EMAIL.match(v):
            raise ValueError("must be an e-mail address")
        return v


class Controller(_Strict):
    name: NonEmpty
    address: NonEmpty
    country: CountryCode
    registration: str | None = None  # e.g. KvK number
    contact_email: NonEmpty


def _transfer_ground(location: str, ground: str | None, who: str) -> None:
    if location not in EU_EEA_COUNTRIES and not ground:
        raise _KeyedError(
            "transfer_ground",
            f"{who} in {location} (outside the EU/EEA) needs a transfer ground (Art. 44-49)",
        )


class SubProcessor(_Strict):
    """A party the processor engages (Art. 28(2)/(4)); where it processes or has access decides a transfer."""

    name: NonEmpty
    role: str | None = None  # what it does for the processor, e.g. "support access"
    location: CountryCode  # country from which it processes or has access
    # Required when `location` is outside the EU/EEA: the Chapter V ground (SCCs + TIA, adequacy, ...)
    transfer_ground: str | None = None

    @model_validator(mode="after")
    def _transfer(self) -> SubProcessor:
        _transfer_ground(self.location, self.transfer_ground, "sub-processor")
        return self

    @property
    def summary(self) -> str:
        """One line: name, role and country, and the ground when it has one."""
        where = self.location + (f"; {self.transfer_ground}" if self.transfer_ground else "")
        return self.name + (f", {self.role}" if self.role else "") + f" ({where})"


class Processor(_Strict):
    name: NonEmpty
    role: NonEmpty  # what it does for the controller
    agreement_ref: NonEmpty  # reference of the Art. 28 processor agreement
    location: CountryCode  # country where it processes
    # ids of the data categories it processes (data_categories[].id): its place among the recipients in the register
    categories: list[NonEmpty] = Field(min_length=1)
    sub_processors: list[SubProcessor] = Field(default_factory=list)
    # Required when `location` is outside the EU/EEA: the Chapter V ground (adequacy decision, SCCs + TIA, ...)
    transfer_ground: str | None = None

    @field_validator("sub_processors", mode="before")
    @classmethod
    def _named_only(cls, v: Any) -> Any:
        for i, item in enumerate(v if isinstance(v, list) else []):
            if isinstance(item, str):
                raise _KeyedError(
                    str(i),
                    "must be a mapping {name, location, role?, transfer_ground?}: a bare name does not say "
                    "where the sub-processor processes",
                )
        return v

    @model_validator(mode="after")
    def _transfer(self) -> Processor:
        _transfer_ground(self.location, self.transfer_ground, "processor")
        return self


@dataclass(frozen=True)
class ProcessorTransfer:
    """Personal data reaching a processor or sub-processor outside the EU/EEA (Chapter V)."""

    recipient: str
    role: str
    location: str
    ground: str
    agreement_ref: str  # the processor agreement the transfer rests under
    categories: tuple[str, ...]  # the data categories that reach it
    sub_processor_of: str | None = None

    @property
    def kind(self) -> str:
        return "sub-processor outside the EU/EEA" if self.sub_processor_of else "processor outside the EU/EEA"

    @property
    def label(self) -> str:
        return (
            f"{self.recipient} (sub-processor of {self.sub_processor_of})"
            if self.sub_processor_of
            else self.recipient
        )


class Organisation(_Strict):
    controller: Controller
    dpo: Contact
    security_officer: Contact  # owner of breach procedure and manual security obligations
    processors: list[Processor] = Field(min_length=1)


class DataCategory(_Strict):
    id: NonEmpty
    name: NonEmpty
    kind: DataKind
    description: NonEmpty
    purpose: NonEmpty
    legal_basis: LegalBasis
    legal_basis_detail: NonEmpty
    retention_class: RetentionClass
    data_subjects: list[NonEmpty] = Field(min_length=1)
    retention_days: StrictInt
    retention_rationale: NonEmpty
    storage: Storage
    readers: list[NonEmpty] = Field(min_length=1)
    special_categories: StrictBool = False  # Art. 9 data (e.g. health) may be discussed in calls

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("must be lower_snake_case, 2-41 characters")
        return v

    @field_validator("readers")
    @classmethod
    def _readers(cls, v: list[str]) -> list[str]:
        for role in v:
            if not _ROLE.match(role):
                raise ValueError(f"role {role!r} must be lower-case letters, digits, '-' or '_'")
        return v

    @field_validator("retention_days")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be a whole number of days, at least 1")
        return v

    @property
    def prefix(self) -> str:
        """Object-storage prefix of this category (also the directory name on hosts)."""
        return f"{self.id}/"


class ResidencyException(_Strict):
    location: NonEmpty
    justification: Annotated[str, Field(min_length=20)]
    legal_ground: NonEmpty  # e.g. "Art. 45 adequacy decision (EU) 2023/1795"
    approved_by: NonEmpty
    reference: NonEmpty


class Residency(_Strict):
    allowed_zones: list[Literal["EU", "EEA"]] = Field(default_factory=lambda: ["EU", "EEA"], min_length=1)
    exceptions: list[ResidencyException] = Field(default_factory=list)


ADMIN_WIDEST_PREFIX = {4: 8, 6: 16}
# The admin networks together may cover at most as many addresses as one network of the widest prefix: one /8
# for IPv4 (2^24 addresses), one /16 for IPv6 (2^112). Without a total, many narrow-enough ranges (1.0.0.0/8 up
# to 223.0.0.0/8) still add up to most of the internet.
ADMIN_TOTAL_ADDRESSES = {v: 2 ** ((32 if v == 4 else 128) - p) for v, p in ADMIN_WIDEST_PREFIX.items()}


# Ports the RTP media range must never open: SSH is admin-only, and SIP is TLS-only on 5061 (5060 stays closed).
RTP_RESERVED_PORTS = {22: "SSH", 5060: "plain SIP", 5061: "SIP over TLS"}


def _cidr(v: str) -> str:
    try:
        net = ipaddress.ip_network(v, strict=True)
    except ValueError as exc:
        raise ValueError(f"{v!r} is not a valid CIDR ({exc})") from None
    return str(net)


class Network(_Strict):
    vpc_cidr: str = "10.40.0.0/16"
    admin_cidrs: list[str] = Field(min_length=1)
    sip_peer_cidrs: list[str] = Field(min_length=1)
    rtp_port_min: StrictInt = Field(default=30000, ge=1024, le=65535)
    rtp_port_max: StrictInt = Field(default=34999, ge=1024, le=65535)
    sip_domain: Annotated[str, AfterValidator(_hostname)]

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc(cls, v: str) -> str:
        v = _cidr(v)
        if not ipaddress.ip_network(v).is_private:
            raise ValueError("must be a private range (RFC 1918)")
        return v

    @field_validator("admin_cidrs")
    @classmethod
    def _admin(cls, v: list[str]) -> list[str]:
        out = [_cidr(c) for c in v]
        for c in out:
            net = ipaddress.ip_network(c)
            if net.prefixlen == 0:
                raise ValueError(f"{c} opens SSH to the whole internet; name the admin networks")
            # No single network wider than the cap; the total below keeps narrower ones from adding up.
            widest = ADMIN_WIDEST_PREFIX[net.version]
            if net.prefixlen < widest:
                raise ValueError(
                    f"{c} is too broad for an admin network (at most /{widest} for IPv{net.version})"
                )
        for version, widest in ADMIN_WIDEST_PREFIX.items():
            nets = [n for n in map(ipaddress.ip_network, out) if n.version == version]
            # Overlapping or repeated entries count once.
            total = sum(n.num_addresses for n in ipaddress.collapse_addresses(nets))
            if total > ADMIN_TOTAL_ADDRESSES[version]:
                raise ValueError(
                    f"the IPv{version} admin networks together cover more than one /{widest} ({total} "
                    f"addresses; at most {ADMIN_TOTAL_ADDRESSES[version]} in total)"
                )
        return out

    @field_validator("sip_peer_cidrs")
    @classmethod
    def _peers(cls, v: list[str]) -> list[str]:
        return [_cidr(c) for c in v]

    @model_validator(mode="after")
    def _range(self) -> Network:
        if self.rtp_port_max <= self.rtp_port_min:
            raise ValueError("rtp_port_max must be greater than rtp_port_min")
        for port, service in RTP_RESERVED_PORTS.items():
            if self.rtp_port_min <= port <= self.rtp_port_max:
                raise _KeyedError(
                    "rtp_port_min",
                    f"the RTP range {self.rtp_port_min}-{self.rtp_port_max} must not include {port} ({service})",
                )
        return self


class Hosts(_Strict):
    count: StrictInt = Field(ge=1, le=5000)
    size: NonEmpty
    image: str | None = None  # AMI id (AWS) or image name (Hetzner); default Debian 12
    recordings_volume_gb: StrictInt = Field(default=100, ge=10, le=10000)
    local_spool_days: StrictInt = Field(default=2, ge=1, le=14)  # AWS: hosts keep recordings until uploaded
    admin_ssh_keys: list[NonEmpty] = Field(min_length=1)  # public keys only

    @field_validator("admin_ssh_keys")
    @classmethod
    def _keys(cls, v: list[str]) -> list[str]:
        for key in v:
            if not _SSH_KEY.match(key):
                raise ValueError(
                    "each key must be an OpenSSH public key (ssh-ed25519 or ecdsa-sha2-nistp256/384)"
                )
        return v


class Backups(_Strict):
    enabled: StrictBool = True
    retention_days: StrictInt = Field(default=14, ge=1)
    copy_regions: list[NonEmpty] = Field(default_factory=list)  # AWS Backup copy targets


class AuditLog(_Strict):
    collector: str | None = None  # host:port of a remote log collector
    # The retention of the audit logs is the audit data category's (one number in one place); the profile sets it
    # after validation so `audit_log.retention_days` reads the same value everywhere.
    _retention_days: int | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _no_own_retention(cls, data: Any) -> Any:
        if isinstance(data, dict) and "retention_days" in data:
            raise _KeyedError(
                "retention_days",
                "is no longer a key: set retention_days on the data category of kind audit instead",
            )
        return data

    @property
    def retention_days(self) -> int:
        """The audit data category's retention_days (read-only; set in the profile's data_categories)."""
        if self._retention_days is None:
            raise AttributeError("retention_days is only known within a validated profile")
        return self._retention_days

    @field_validator("collector")
    @classmethod
    def _collector(cls, v: str | None) -> str | None:
        if v is None:
            return v
        allowed = "must be host:port: a DNS name or an IP address ([...] for IPv6) and a port 1-65535"
        host, sep, port = v.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(allowed)
        # The host lands in rsyslog's configuration on every server: a name or an address, nothing else.
        bracketed = host.startswith("[") and host.endswith("]")
        try:
            address = ipaddress.ip_address(host[1:-1] if bracketed else host)
        except ValueError:
            address = None
        if address is not None:
            if (address.version == 6) != bracketed:
                raise ValueError(allowed)
            return v
        try:
            _hostname(host)
        except ValueError:
            raise ValueError(allowed) from None
        return v


class Patching(_Strict):
    reboot_window: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "03:30"
    timezone: NonEmpty = "Europe/Amsterdam"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        if v not in zoneinfo.available_timezones():
            raise ValueError(f"{v!r} is not an IANA time zone (e.g. Europe/Amsterdam)")
        return v


class Dpia(_Strict):
    reference: str | None = None  # document reference of the DPIA, when done
    large_scale: StrictBool = False  # systematic recording of many callers (contact centre)


class RecordingNotice(_Strict):
    played_by_ivr: StrictBool = False  # the SIP configuration plays the notice before recording starts
    text_reference: NonEmpty  # where the notice text is kept


class Profile(_Strict):
    provider: Provider
    location: NonEmpty  # AWS region or Hetzner location
    risk_level: RiskLevel
    sector: NonEmpty
    organisation: Organisation
    data_categories: list[DataCategory] = Field(min_length=1)
    residency: Residency = Field(default_factory=Residency)
    network: Network
    hosts: Hosts
    backups: Backups = Field(default_factory=Backups)
    audit_log: AuditLog = Field(default_factory=AuditLog)
    patching: Patching = Field(default_factory=Patching)
    dpia: Dpia = Field(default_factory=Dpia)
    recording_notice: RecordingNotice

    @model_validator(mode="after")
    def _categories(self) -> Profile:
        seen: set[str] = set()
        for i, c in enumerate(self.data_categories):
            if c.id in seen:
                raise _KeyedError(f"data_categories.{i}.id", f"duplicate category id {c.id!r}")
            seen.add(c.id)
            bound = retention_bound(c.retention_class, c.special_categories)
            if c.retention_days > bound:
                kind = "special-category " if c.special_categories else ""
                raise _KeyedError(
                    f"data_categories.{i}.retention_days",
                    f"{c.retention_days} days exceeds the bound of {bound} days for "
                    f"{kind}{c.retention_class.value} data",
                )
            if (
                c.retention_class is RetentionClass.LEGAL_OBLIGATION
                and c.legal_basis is not LegalBasis.LEGAL_OBLIGATION
            ):
                raise _KeyedError(
                    f"data_categories.{i}.legal_basis",
                    "a legal_obligation retention class needs legal_basis legal_obligation",
                )
            if c.special_categories and c.legal_basis not in (
                LegalBasis.CONSENT,
                LegalBasis.LEGAL_OBLIGATION,
            ):
                raise _KeyedError(
                    f"data_categories.{i}.legal_basis",
                    "special-category data (Art. 9) needs consent or a legal obligation",
                )
            if c.special_categories and self.risk_level is not RiskLevel.SENSITIVE:
                raise _KeyedError(
                    "risk_level", f"category {c.id!r} holds special-category data: must be sensitive"
                )
        for i, p in enumerate(self.organisation.processors):
            listed: set[str] = set()
            for j, cid in enumerate(p.categories):
                key = f"organisation.processors.{i}.categories.{j}"
                if cid not in seen:
                    known = ", ".join(c.id for c in self.data_categories)
                    raise _KeyedError(key, f"unknown data category {cid!r}; known: {known}")
                if cid in listed:
                    raise _KeyedError(key, f"category {cid!r} is listed twice")
                listed.add(cid)
        kinds = {c.kind for c in self.data_categories}
        for required in (DataKind.TRAFFIC, DataKind.CONTENT, DataKind.AUDIT):
            if required not in kinds:
                raise _KeyedError("data_categories", f"a category of kind {required.value!r} is required")
        audit = [i for i, c in enumerate(self.data_categories) if c.kind is DataKind.AUDIT]
        if len(audit) > 1:
            raise _KeyedError(
                f"data_categories.{audit[1]}.kind",
                "only one category may be of kind 'audit': its retention_days is the audit-log retention",
            )
        self.audit_log._retention_days = self.data_categories[audit[0]].retention_days
        return self

    @model_validator(mode="after")
    def _image(self) -> Profile:
        image = self.hosts.image
        if image is None:
            return self
        if self.provider is Provider.AWS and not _AWS_IMAGE.fullmatch(image):
            raise _KeyedError(
                "hosts.image", "must be an AMI id on aws: 'ami-' and 8 or 17 hex digits (e.g. ami-0abc1234)"
            )
        if self.provider is Provider.HCLOUD and not _HCLOUD_IMAGE.fullmatch(image):
            raise _KeyedError(
                "hosts.image",
                "must be a Hetzner image name or id on hcloud: lower-case letters, digits, '.', '-', '_', "
                "at most 63 characters (e.g. debian-12)",
            )
        return self

    # -- derived views -------------------------------------------------------------------------------------

    def categories(self, storage: Storage | None = None, kind: DataKind | None = None) -> list[DataCategory]:
        return [
            c
            for c in self.data_categories
            if (storage is None or c.storage is storage) and (kind is None or c.kind is kind)
        ]

    def category(self, category_id: str) -> DataCategory:
        for c in self.data_categories:
            if c.id == category_id:
                return c
        raise KeyError(category_id)

    def processors_of(self, category_ids: Iterable[str]) -> list[Processor]:
        """The processors that process any of these categories, in profile order."""
        wanted = set(category_ids)
        return [p for p in self.organisation.processors if wanted & set(p.categories)]

    def processor_transfers(self) -> list[ProcessorTransfer]:
        """Every processor and sub-processor outside the EU/EEA, with its ground and the categories it gets."""
        out: list[ProcessorTransfer] = []
        for p in self.organisation.processors:
            cats = tuple(p.categories)
            if p.location not in EU_EEA_COUNTRIES:
                out.append(
                    ProcessorTransfer(
                        p.name, p.role, p.location, str(p.transfer_ground), p.agreement_ref, cats
                    )
                )
            for sp in p.sub_processors:
                if sp.location not in EU_EEA_COUNTRIES:
                    out.append(
                        ProcessorTransfer(
                            sp.name,
                            sp.role or p.role,
                            sp.location,
                            str(sp.transfer_ground),
                            p.agreement_ref,
                            cats,
                            sub_processor_of=p.name,
                        )
                    )
        return out

    @property
    def has_processor_transfers(self) -> bool:
        return bool(self.processor_transfers())

    @property
    def audit_category(self) -> DataCategory:
        """The one category of kind audit (login and access logs): the single source of the log retention."""
        return self.categories(kind=DataKind.AUDIT)[0]

    @property
    def audit_retention_days(self) -> int:
        """Days audit logs are kept: log bucket, log groups, host journal and the register all use this."""
        return self.audit_category.retention_days

    @property
    def reader_roles(self) -> list[str]:
        return sorted({r for c in self.data_categories for r in c.readers})

    @property
    def dpia_required(self) -> bool:
        """The AP's list names large-scale processing of communication data; sensitive sectors add Art. 9 risk."""
        return (
            self.dpia.large_scale
            or self.risk_level is RiskLevel.SENSITIVE
            or any(c.special_categories for c in self.data_categories)
        )


class _KeyedError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "profile"


def _describe(err: dict[str, Any]) -> str:
    typ = err.get("type", "")
    ctx = err.get("ctx") or {}
    if typ == "missing":
        return "is required"
    if typ == "extra_forbidden":
        return "is not a known key"
    if typ == "enum":
        return f"must be one of {ctx.get('expected', '')}".replace("'", "")
    if typ == "literal_error":
        return f"must be one of {ctx.get('expected', '')}".replace("'", "")
    if typ in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a mapping"
    if typ == "list_type":
        return "must be a list"
    if typ in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    if typ == "string_type":
        return "must be a string"
    if typ == "bool_type" or typ == "bool_parsing":
        return "must be true or false"
    if typ == "too_short":
        return f"must have at least {ctx.get('min_length', 1)} item(s)"
    if typ == "string_too_short":
        return f"must be at least {ctx.get('min_length', 1)} character(s)"
    if typ == "string_pattern_mismatch":
        return f"must match {ctx.get('pattern')}"
    if typ in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}
        limit = next(iter(ctx.values()), "")
        return f"must be {bounds[typ]} {limit}"
    msg = str(err.get("msg", "is invalid"))
    return msg.removeprefix("Value error, ")


def parse_profile(data: Any, catalogue: Catalogue | None = None) -> Profile:
    """Validate `data` into a Profile, including residency; raise ProfileError naming the first bad key."""
    if not isinstance(data, dict):
        raise ProfileError("profile", "must be a mapping")
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, _KeyedError):
            prefix = _loc(err["loc"]) + "." if err["loc"] else ""
            raise ProfileError(prefix + cause.key, cause.message) from None
        raise ProfileError(_loc(err["loc"]), _describe(err)) from None
    check_residency(profile, catalogue or load_catalogue())
    return profile


def check_residency(profile: Profile, catalogue: Catalogue) -> None:
    """Every location the profile names must be allowed: its main location and every backup copy region."""
    places = [("location", profile.location)]
    places += [(f"backups.copy_regions.{i}", r) for i, r in enumerate(profile.backups.copy_regions)]
    for key, loc in places:
        decision = allowed_location(profile, catalogue, loc)
        if decision is not None:
            raise ProfileError(key, decision)
    for i, exc in enumerate(profile.residency.exceptions):
        entry = catalogue.find(profile.provider.value, exc.location)
        if entry is None:
            raise ProfileError(
                f"residency.exceptions.{i}.location", f"unknown {profile.provider.value} location"
            )
        if entry.status is not LegalStatus.ADEQUACY:
            raise ProfileError(
                f"residency.exceptions.{i}.location",
                f"{exc.location} is {entry.status.value} ({entry.country}); only adequacy-decision locations "
                "may be excepted",
            )


def allowed_location(profile: Profile, catalogue: Catalogue, location: str) -> str | None:
    """None when allowed; otherwise why not (one line)."""
    entry = catalogue.find(profile.provider.value, location)
    if entry is None:
        known = ", ".join(catalogue.names(profile.provider.value, allowed_only=True))
        return f"unknown {profile.provider.value} location {location!r}; allowed: {known}"
    if entry.status.value in profile.residency.allowed_zones:
        return None
    if entry.status is LegalStatus.ADEQUACY and any(
        e.location == location for e in profile.residency.exceptions
    ):
        return None
    if entry.status is LegalStatus.ADEQUACY:
        return (
            f"{location} is in {entry.country} (adequacy decision, not EU/EEA); add a justified "
            "residency.exceptions entry to use it"
        )
    zones = "/".join(profile.residency.allowed_zones)
    return f"{location} is in {entry.country} ({entry.status.value}); only {zones} locations are allowed"
