"""Typed configuration: every YAML file under the config folder maps onto one pydantic model.

Each default is defined once (in the model when the file may leave it out, otherwise only in the file), an
unknown key or a wrong type is a ConfigError naming the file and the key, and configs are cheap to load
(YAML and pydantic only), so DAG files read them while they are parsed.
"""
