"""The support assistant: base model, prompts, LoRA fine-tuning, generation, evaluation and pipeline steps."""
