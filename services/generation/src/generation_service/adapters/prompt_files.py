"""Prompt versions read from a folder of YAML files, once, at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from generation_service.core import Prompt, PromptError, PromptRegistry

if TYPE_CHECKING:
    from pathlib import Path


def load_prompts(folder: Path) -> PromptRegistry:
    """Every `*.yaml` prompt in `folder`; a malformed file or a clash stops start-up."""
    if not folder.is_dir():
        raise PromptError(f"prompt folder {folder} does not exist")
    prompts = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            prompt = Prompt.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, ValidationError) as exc:
            raise PromptError(f"{path.name}: {exc}") from exc
        if path.stem != prompt.key:
            raise PromptError(f"{path.name} holds {prompt.key}: name the file {prompt.key}.yaml")
        prompts.append(prompt)
    if not prompts:
        raise PromptError(f"no *.yaml prompt in {folder}")
    return PromptRegistry(prompts)
