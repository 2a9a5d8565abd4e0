import json
import multiprocessing as mp
import shutil
from collections import Counter

import pytest
import torch

from winclip_lit import WinCLIP
from winclip_lit.cache import FeatureCache, tensor_key


def test_cache_hits_return_the_encoded_features(tmp_path, winclip):
    images = torch.randn(3, 3, 64, 64)
    cache = FeatureCache(tmp_path, winclip.feature_fingerprint())
    first = cache.encode(winclip, images[:2], ["a.png", "b.png"])
    assert (cache.hits, cache.misses) == (0, 2)
    second = cache.encode(winclip, images, ["a.png", "b.png", "c.png"])
    assert (cache.hits, cache.misses) == (2, 3)
    direct = winclip.encode(images)
    for got in (first, second[:2]):
        assert torch.equal(got.image, direct.image[:2])
        assert all(torch.equal(a, b[:2]) for a, b in zip(got.windows, direct.windows, strict=True))
        assert torch.equal(got.patches, direct.patches[:2])


def test_other_fingerprint_or_changed_image_misses(tmp_path, winclip):
    images = torch.randn(2, 3, 64, 64)
    FeatureCache(tmp_path, winclip.feature_fingerprint()).encode(winclip, images)
    other = FeatureCache(tmp_path, "another-backbone")
    other.encode(winclip, images)
    assert other.misses == 2
    changed = images.clone()
    changed[0, 0, 0, 0] += 1e-3
    assert tensor_key(changed[0]) != tensor_key(images[0])
    assert tensor_key(changed[1]) == tensor_key(images[1])


def test_damaged_entry_is_recomputed(tmp_path, winclip):
    images = torch.randn(1, 3, 64, 64)
    cache = FeatureCache(tmp_path, winclip.feature_fingerprint())
    cache.encode(winclip, images)
    cache.path(tensor_key(images[0])).write_bytes(b"truncated")
    again = cache.encode(winclip, images)
    assert cache.misses == 2
    assert torch.equal(again.image, winclip.encode(images).image)


def _writer(root: str, fingerprint: str, seed: int) -> None:
    torch.manual_seed(0)
    images = torch.randn(4, 3, 64, 64)
    features = [t * (1 + seed * 0) for t in (images.mean((1, 2, 3)),)]  # same content in every writer
    cache = FeatureCache(root, fingerprint)
    from winclip_lit.model.features import ImageFeatures

    for _ in range(20):
        for i in range(4):
            feats = ImageFeatures(features[0][i : i + 1, None], (torch.ones(1, 2, 1),), torch.ones(1, 3, 1))
            cache.save(tensor_key(images[i]), feats)


def test_concurrent_writers_leave_only_complete_entries(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), "fp", s)) for s in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = FeatureCache(tmp_path, "fp")
    files = list(cache.root.rglob("*"))
    assert not [f for f in files if f.suffix == ".tmp"]
    assert len([f for f in files if f.suffix == ".pt"]) == 4
    assert all(cache.load(f.stem) is not None for f in files if f.suffix == ".pt")


def _entry_bytes(features) -> int:
    """Bytes of one image's tensors in float32, from their shapes."""
    tensors = [features.image, *features.windows, features.patches]
    return sum(t[0].numel() * 4 for t in tensors)


def test_entry_size_does_not_depend_on_the_batch_size(tmp_path, winclip):
    torch.manual_seed(1)
    images = torch.randn(8, 3, 64, 64)
    single = FeatureCache(tmp_path / "b1", winclip.feature_fingerprint())
    single.encode(winclip, images[:1])
    batched = FeatureCache(tmp_path / "b8", winclip.feature_fingerprint())
    batched.encode(winclip, images)
    key = tensor_key(images[0])
    size_1 = single.path(key).stat().st_size
    size_8 = batched.path(key).stat().st_size
    assert size_8 == size_1
    data = _entry_bytes(winclip.encode(images[:1]))
    assert data <= size_1 < data + 4096  # the image's own features plus the file's small overhead


def test_entry_copied_over_another_images_entry_is_reencoded(tmp_path, winclip):
    torch.manual_seed(2)
    images = torch.randn(2, 3, 64, 64)
    cache = FeatureCache(tmp_path, winclip.feature_fingerprint())
    cache.encode(winclip, images)
    first, second = (cache.path(tensor_key(image)) for image in images)
    shutil.copyfile(first, second)  # a stale or misplaced entry under the second image's name
    fresh = FeatureCache(tmp_path, winclip.feature_fingerprint())
    got = fresh.encode(winclip, images[1:])
    assert (fresh.hits, fresh.misses) == (0, 1)
    direct = winclip.encode(images[1:])
    assert torch.equal(got.image, direct.image) and torch.equal(got.patches, direct.patches)
    again = FeatureCache(tmp_path, winclip.feature_fingerprint())
    again.encode(winclip, images[1:])
    assert (again.hits, again.misses) == (1, 0)  # the entry was rewritten with the right features


LINES_PER_CALL = 300  # ~40 kB per call: larger than one buffered write
CALLS = 100


def _index_rows(worker: int) -> tuple[list[str], list[str]]:
    keys = [f"{worker:02d}{i:030d}" for i in range(LINES_PER_CALL)]
    paths = [f"/data/worker{worker}/{'x' * 80}/{i}.png" for i in range(LINES_PER_CALL)]
    return keys, paths


def _append_index(root: str, worker: int) -> None:
    cache = FeatureCache(root, "fp")
    keys, paths = _index_rows(worker)
    for _ in range(CALLS):
        cache._record(keys, paths, range(LINES_PER_CALL))


def test_concurrent_index_appends_keep_whole_lines(tmp_path):
    ctx = mp.get_context("fork")  # no torch re-import: the appends themselves are what is tested
    procs = [ctx.Process(target=_append_index, args=(str(tmp_path), w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lines = (FeatureCache(tmp_path, "fp").root / "index.jsonl").read_text().splitlines()
    rows = Counter(tuple(json.loads(line).values()) for line in lines)
    expected = Counter({row: CALLS for w in range(4) for row in zip(*_index_rows(w), strict=True)})
    assert rows == expected  # every line whole: a line torn by another writer's append would differ


@pytest.mark.slow
def test_paper_backbone_entry_is_its_feature_bytes(tmp_path):
    """ViT-B-16-plus-240 (random weights): 15x15 patches, D = 640, width 896, window scales 2 and 3."""
    torch.manual_seed(0)
    model = WinCLIP.from_pretrained("ViT-B-16-plus-240", None)
    floats = 640 + (14 * 14 + 13 * 13) * 640 + 15 * 15 * 896  # image + windows + patch tokens = 435,840
    images = torch.randn(2, 3, 240, 240)
    cache = FeatureCache(tmp_path, model.feature_fingerprint())
    with torch.no_grad():
        cache.encode(model, images)
    size = cache.path(tensor_key(images[0])).stat().st_size
    assert floats * 4 <= size < floats * 4 + 4096  # 1.75 MB in float32, not the batch's 3.5 MB
