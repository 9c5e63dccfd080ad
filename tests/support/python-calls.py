"""Reports, as JSON, how a Python Pulumi program uses MinimalImage, read with Python's own parser.

Usage: python3 python-calls.py PROGRAM.py

Prints {"module": the imported SDK module, "components": [{"call": ..., "kwargs": ...}],
"outputs": [attribute, ...]}.
Names under the SDK's import alias are reported as `minimal_image.<rest>`, whatever the alias.
Nothing in the program is run.
"""

import ast
import json
import sys

SDK_PREFIX = "pulumi_minimal_image"


def main(path):
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), filename=path)
    module, alias = None, None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for name in node.names:
                if name.name.startswith(SDK_PREFIX):
                    module, alias = name.name, name.asname or name.name

    def dotted(node):
        if isinstance(node, ast.Name):
            return "minimal_image" if node.id == alias else node.id
        if isinstance(node, ast.Attribute):
            return dotted(node.value) + "." + node.attr
        return ast.unparse(node)

    def value(node):
        if isinstance(node, ast.Constant):
            return {"const": node.value}
        if isinstance(node, ast.Call):
            return {"call": dotted(node.func), "kwargs": {k.arg: value(k.value) for k in node.keywords}}
        if isinstance(node, (ast.Name, ast.Attribute)):
            return {"name": dotted(node)}
        if isinstance(node, ast.List):
            return {"list": [value(item) for item in node.elts]}
        if isinstance(node, ast.Dict):
            return {"dict": {ast.literal_eval(k): value(v) for k, v in zip(node.keys, node.values)}}
        return {"expr": ast.unparse(node)}

    components, variables = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if dotted(node.value.func) == "minimal_image.MinimalImage":
                variables.update(t.id for t in node.targets if isinstance(t, ast.Name))
        if isinstance(node, ast.Call) and dotted(node.func) == "minimal_image.MinimalImage":
            components.append(value(node))
    outputs = sorted(
        {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in variables
        }
    )
    json.dump({"module": module, "components": components, "outputs": outputs}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
