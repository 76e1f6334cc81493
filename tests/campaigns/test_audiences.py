"""Ad-platform customer lists: identifier normalisation, SHA-256 hashing, CSV layout and incremental exports."""

from __future__ import annotations

import csv
import io

import pytest

from services.campaigns.audiences import (
    Contact,
    customer_list_csv,
    customer_list_header,
    customer_list_rows,
    diff_members,
    hash_email,
    hash_phone,
    normalise_email,
    normalise_phone,
    sha256_hex,
)

# Digests computed independently with coreutils: printf '%s' VALUE | sha256sum
SHA_TEST_EXAMPLE_COM = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"  # test@example.com
SHA_PLUS_14155552671 = "cb6880e416769253645cb9c6b8989154bf66a56a77fc14c81fb1019663cbb928"  # +14155552671
SHA_14155552671 = "758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0"  # 14155552671
SHA_PLUS_442071838750 = "e631c2534428c6c9b48c2167604a8983046085e43a2c00ed748733c544c0bb4d"  # +442071838750
SHA_442071838750 = "8d5f937f3a5590634cbe975951a6aa1543170671ce6e73cce4062f4e8c288417"  # 442071838750

PEOPLE = [
    Contact(email=" Test@Example.com ", phone="+1 (415) 555-2671"),
    Contact(email="ada@example.org", phone=None),
    Contact(email=None, phone="020 7183 8750"),
]


class TestNormaliseEmail:
    def test_trims_and_lowercases(self) -> None:
        assert normalise_email("  Test@Example.COM\n") == "test@example.com"

    def test_keeps_gmail_dots_and_plus_tags(self) -> None:
        assert normalise_email("First.Last+news@Gmail.com") == "first.last+news@gmail.com"

    @pytest.mark.parametrize(
        "raw",
        [
            None,
            "",
            "   ",
            "no-at-sign",
            "@example.com",
            "ada@",
            "ada@localhost",
            "a@b@example.com",
            "ada lovelace@example.com",
        ],
    )
    def test_unusable_values_give_none(self, raw: str | None) -> None:
        assert normalise_email(raw) is None


class TestNormalisePhone:
    def test_international_number_becomes_e164(self) -> None:
        assert normalise_phone("+1 (415) 555-2671") == "+14155552671"

    def test_national_number_uses_the_default_region(self) -> None:
        assert normalise_phone("020 7183 8750", default_region="GB") == "+442071838750"

    def test_international_number_ignores_the_default_region(self) -> None:
        assert normalise_phone("+44 20 7183 8750", default_region="US") == "+442071838750"

    def test_national_number_without_region_gives_none(self) -> None:
        assert normalise_phone("4155552671") is None

    @pytest.mark.parametrize("raw", [None, "", "  ", "not a phone", "12345", "+1 000 000 0000"])
    def test_invalid_values_give_none(self, raw: str | None) -> None:
        assert normalise_phone(raw, default_region="US") is None


class TestHashing:
    def test_sha256_of_known_string(self) -> None:
        assert sha256_hex("test@example.com") == SHA_TEST_EXAMPLE_COM

    def test_email_is_normalised_before_hashing(self) -> None:
        assert hash_email("  TEST@example.com ") == SHA_TEST_EXAMPLE_COM

    def test_unusable_email_has_no_hash(self) -> None:
        assert hash_email("nobody") is None

    def test_google_hashes_phone_in_e164_with_plus(self) -> None:
        assert hash_phone("(415) 555-2671", platform="google_ads", default_region="US") == SHA_PLUS_14155552671

    def test_meta_hashes_phone_as_digits_with_country_code(self) -> None:
        assert hash_phone("(415) 555-2671", platform="meta", default_region="US") == SHA_14155552671

    def test_meta_phone_hash_drops_the_national_trunk_zero(self) -> None:
        assert hash_phone("020 7183 8750", platform="meta", default_region="GB") == SHA_442071838750

    def test_invalid_phone_has_no_hash(self) -> None:
        assert hash_phone("12345", platform="google_ads", default_region="US") is None


class TestCustomerListLayout:
    def test_google_ads_header(self) -> None:
        assert customer_list_header("google_ads") == ("Email", "Phone")

    def test_meta_header(self) -> None:
        assert customer_list_header("meta") == ("EMAIL", "PHONE")

    def test_unknown_platform_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="unknown ad platform"):
            customer_list_header("tiktok")  # type: ignore[arg-type]

    def test_google_rows_hold_hashes_in_header_order(self) -> None:
        rows = customer_list_rows(PEOPLE, platform="google_ads", default_region="GB")
        assert rows == [
            (SHA_TEST_EXAMPLE_COM, SHA_PLUS_14155552671),
            (sha256_hex("ada@example.org"), ""),
            ("", SHA_PLUS_442071838750),
        ]

    def test_meta_rows_hash_phones_without_plus(self) -> None:
        rows = customer_list_rows(PEOPLE, platform="meta", default_region="GB")
        assert [phone for _, phone in rows] == [SHA_14155552671, "", SHA_442071838750]

    def test_contacts_without_usable_identifiers_are_skipped(self) -> None:
        contacts = [Contact(), Contact(email="nobody", phone="123"), Contact(email="ada@example.org")]
        assert customer_list_rows(contacts, platform="meta") == [(sha256_hex("ada@example.org"), "")]

    def test_duplicate_people_give_one_row(self) -> None:
        contacts = [Contact(email="ADA@example.org"), Contact(email=" ada@example.org")]
        assert len(customer_list_rows(contacts, platform="google_ads")) == 1

    @pytest.mark.parametrize("platform", ["google_ads", "meta"])
    def test_every_cell_is_a_sha256_digest_or_empty(self, platform: str) -> None:
        rows = customer_list_rows(PEOPLE, platform=platform, default_region="GB")  # type: ignore[arg-type]
        cells = [cell for row in rows for cell in row]
        assert all(cell == "" or (len(cell) == 64 and set(cell) <= set("0123456789abcdef")) for cell in cells)

    @pytest.mark.parametrize("platform", ["google_ads", "meta"])
    def test_no_plain_identifier_appears_in_the_file(self, platform: str) -> None:
        rows = customer_list_rows(PEOPLE, platform=platform, default_region="GB")  # type: ignore[arg-type]
        text = customer_list_csv(rows, platform=platform)  # type: ignore[arg-type]
        plain = [
            "test@example.com",
            "ada@example.org",
            "+14155552671",
            "14155552671",
            "4155552671",
            "+442071838750",
            "442071838750",
            "02071838750",
        ]
        assert [value for value in plain if value in text] == []


class TestCustomerListCsv:
    def test_csv_has_header_then_rows(self) -> None:
        rows = customer_list_rows(PEOPLE[:2], platform="google_ads")
        parsed = list(csv.reader(io.StringIO(customer_list_csv(rows, platform="google_ads"))))
        assert parsed == [
            ["Email", "Phone"],
            [SHA_TEST_EXAMPLE_COM, SHA_PLUS_14155552671],
            [sha256_hex("ada@example.org"), ""],
        ]

    def test_empty_list_is_just_the_header(self) -> None:
        assert customer_list_csv([], platform="meta") == "EMAIL,PHONE\r\n"


class TestDiffMembers:
    def test_new_members_are_added_and_departed_ones_removed(self) -> None:
        diff = diff_members(previous={"a", "b", "c"}, current={"b", "c", "d"})
        assert (diff.added, diff.removed) == (frozenset({"d"}), frozenset({"a"}))

    def test_unchanged_membership_gives_an_empty_diff(self) -> None:
        diff = diff_members(previous=["a", "b"], current=["b", "a"])
        assert (diff.added, diff.removed) == (frozenset(), frozenset())

    def test_first_export_adds_everyone(self) -> None:
        diff = diff_members(previous=[], current=["a", "b"])
        assert (diff.added, diff.removed) == (frozenset({"a", "b"}), frozenset())

    def test_hashed_rows_can_be_diffed_directly(self) -> None:
        before = customer_list_rows(PEOPLE[:2], platform="meta")
        after = customer_list_rows([PEOPLE[1], Contact(email="new@example.com")], platform="meta")
        diff = diff_members(before, after)
        assert diff.added == {(sha256_hex("new@example.com"), "")}
        assert diff.removed == {(SHA_TEST_EXAMPLE_COM, SHA_14155552671)}
