import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

// Names a CommonJS module or Node itself binds in every module: shadowing one compiles differently under
// tsc's CommonJS output than under esbuild (a local `exports` once broke every compiled Dockerfile).
const moduleScopeGlobals = { ...globals.node, ...globals.commonjs };

export default tseslint.config(
  { ignores: ["bin/**", "harness/bin/**", "node_modules/**", "**/target/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: moduleScopeGlobals },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-shadow": "off",
      "@typescript-eslint/no-shadow": [
        "error",
        {
          builtinGlobals: true,
          ignoreTypeValueShadow: true,
          ignoreFunctionTypeParameterNameValueShadow: true,
        },
      ],
    },
  },
);
