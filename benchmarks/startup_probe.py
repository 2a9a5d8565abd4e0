"""The steps evaluate.py takes before its first batch, timed one by one in a fresh interpreter.

Run by ``bench_evaluate.py`` (not meant to be called by hand): the parent passes the wall-clock time at
which it started this process and a JSON job; the last stdout line is a JSON object of seconds:

- ``imports``: interpreter start plus the imports of evaluate.py and ``winclip_lit.tasks.evaluate``;
- ``build``: ``load_backbone`` (random weights) and ``WinCLIP(...)``, with whatever they import;
- ``text``: ``set_class_name`` (the 242 prompt sentences of the paper's ensemble);
- ``data``: the folder datamodule, its test set-up and the first batch out of its workers;
- ``first_forward`` / ``model_per_image``: ``WinCLIP.forward`` on the first batch (warm-up) and per
  image on the remaining batches;
- ``text_truncated`` / ``text_full``: the same 242 sentences again (warm), encoded up to the longest
  sentence and at the full context length (alternating, best of ``text_repeats``), with the two lengths.

Only the standard library is imported before the ``imports`` step, so nothing is timed twice.
"""

import json
import sys
import time


def main() -> None:
    spawned, job = float(sys.argv[1]), json.loads(sys.argv[2])
    import hydra  # noqa: F401  (evaluate.py's own imports, then the task module it loads)

    import winclip_lit.cli
    import winclip_lit.tasks.evaluate  # noqa: F401

    times = {"imports": time.time() - spawned}

    start = time.perf_counter()
    import torch

    from winclip_lit.model import WinCLIP, load_backbone

    torch.manual_seed(0)
    backbone = load_backbone(job["model_name"], None)
    model = WinCLIP(
        backbone.model,
        backbone.tokenizer,
        model_name=backbone.name,
        mean=backbone.mean,
        std=backbone.std,
    )
    times["build"] = time.perf_counter() - start

    start = time.perf_counter()
    model.set_class_name("object")
    times["text"] = time.perf_counter() - start

    start = time.perf_counter()
    from winclip_lit.data import FolderDataModule

    datamodule = FolderDataModule(
        **job["dataset"],
        category="object",
        transform=model.transform,
        image_size=model.image_size,
        batch_size=job["batch_size"],
        num_workers=job["workers"],
    )
    datamodule.setup("test")
    loader = iter(datamodule.test_dataloader())
    first = next(loader)
    times["data"] = time.perf_counter() - start
    batches = [first, *loader]
    if sum(len(b["image"]) for b in batches) != job["images"]:
        raise RuntimeError(
            f"the folder dataset has {len(datamodule.test_dataset)} test images, not {job['images']}"
        )

    start = time.perf_counter()
    model(first["image"])
    times["first_forward"] = time.perf_counter() - start
    rest = batches[1:] or batches
    start = time.perf_counter()
    for batch in rest:
        model(batch["image"])
    times["model_per_image"] = (time.perf_counter() - start) / sum(len(b["image"]) for b in rest)

    from winclip_lit.model.prompts import encode_prompt_set

    normal, anomalous = model.prompts("object")
    encoders = {"text_truncated": model.text_encoder, "text_full": model.clip.encode_text}
    for _ in range(job["text_repeats"]):  # alternating, best of each: load changes hit both alike
        for key, encode in encoders.items():
            start = time.perf_counter()
            for sentences in (normal, anomalous):
                encode_prompt_set(encode, model.tokenizer, sentences)
            times[key] = min(times.get(key, float("inf")), time.perf_counter() - start)
    tokens = model.tokenizer(normal + anomalous)
    times["sentences"] = len(tokens)
    times["tokens_truncated"] = model.text_encoder.sequence_length(tokens)
    times["tokens_full"] = int(tokens.shape[1])
    times["threads"] = torch.get_num_threads()
    print(json.dumps(times))


if __name__ == "__main__":
    main()
