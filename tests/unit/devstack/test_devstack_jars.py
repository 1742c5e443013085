"""The jar cache counts as complete only once its marker matches the POM."""

from __future__ import annotations

from pathlib import Path

import pytest

from binome_devstack.jars import KAFKA_POM, LOG4J2_CONFIG, KafkaJarCache, pom_digest

pytestmark = pytest.mark.unit


@pytest.fixture
def cache(tmp_path: Path) -> KafkaJarCache:
    pom = tmp_path / "pom.xml"
    pom.write_text("<project/>", encoding="utf-8")
    return KafkaJarCache(root=tmp_path / "cache", pom=pom)


def _fill(cache: KafkaJarCache) -> None:
    cache.libs_dir.mkdir(parents=True)
    (cache.libs_dir / "kafka_2.13-4.1.1.jar").write_bytes(b"jar")


def test_jars_without_the_marker_are_a_half_download(cache: KafkaJarCache) -> None:
    _fill(cache)

    assert not cache.is_complete()


def test_the_marker_must_match_the_current_pom(cache: KafkaJarCache) -> None:
    _fill(cache)
    cache.marker.write_text("stale-digest\n", encoding="utf-8")
    assert not cache.is_complete()

    cache.marker.write_text(pom_digest(cache.pom) + "\n", encoding="utf-8")
    assert cache.is_complete()


def test_a_marker_without_jars_is_not_complete(cache: KafkaJarCache) -> None:
    cache.root.mkdir()
    cache.marker.write_text(pom_digest(cache.pom), encoding="utf-8")

    assert not cache.is_complete()


def test_the_shipped_pom_pins_what_the_broker_needs() -> None:
    pom = KAFKA_POM.read_text(encoding="utf-8")

    assert "<packaging>pom</packaging>" in pom
    assert "<kafka.version>4.1.1</kafka.version>" in pom
    assert "<slf4j.version>1.7.36</slf4j.version>" in pom
    assert "<log4j2.version>2.24.3</log4j2.version>" in pom
    assert "<artifactId>log4j-slf4j-impl</artifactId>" in pom
    assert "<artifactId>maven-dependency-plugin</artifactId>\n          <version>3." in pom
    assert LOG4J2_CONFIG.is_file()
