// ESLint: a small rule set for real defects, set to the code as it is written (see README, Development).
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["**/node_modules/**", "**/dist/**", "coverage/**", ".burst/**"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // Names starting with _ are kept on purpose: a dropped field of a destructuring, a required parameter.
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
          ignoreRestSiblings: true,
        },
      ],
      // `any` types loosely read JSON (HTTP answers, recordings) and the Functions library's untyped values, on purpose.
      "@typescript-eslint/no-explicit-any": "off",
      // `interface X extends Y {}` names a type for its own concept.
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
      // `const self = this` for the object literal the local host hands to the Functions library.
      "@typescript-eslint/no-this-alias": ["error", { allowedNames: ["self"] }],
      // Validation regexes match control characters on purpose (to refuse them).
      "no-control-regex": "off",
      // A `let` read by a cleanup closure before its one assignment cannot be const.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { project: "./tsconfig.eslint.json", tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits loses its rejection: mark one left running on purpose with `void`.
      "@typescript-eslint/no-floating-promises": "error",
      // TypeScript already knows every global name, and knows it better.
      "no-undef": "off",
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: globals.node },
  },
);
