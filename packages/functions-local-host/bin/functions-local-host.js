#!/usr/bin/env node
// The command, kept outside dist/ so that npm links it at install time, before any build.
import "../dist/main.js";
