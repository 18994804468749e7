// Starts `policyspec lsp` (or the command in the policyspec.command setting) for .policy
// files. Everything the editor shows comes from the server; this file only connects them.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace
    .getConfiguration("policyspec")
    .get("command", ["policyspec", "lsp"]);
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    "policyspec",
    "policyspec",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "policy" }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
