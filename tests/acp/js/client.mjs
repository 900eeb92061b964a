// A test client of `pygent acp` built on the official ACP TypeScript SDK (@agentclientprotocol/sdk).
//
// Usage: node client.mjs WORKSPACE -- AGENT_COMMAND...
// Drives full turns (prompt, edit review with diff -> allow -> fs/write_text_file, reject,
// cancel, load with replay, closing stdin), validates every message the agent sends with the
// SDK's own zod schemas on the raw byte stream, and prints one JSON summary line on stdout.

import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { client, ndJsonStream, PROTOCOL_VERSION } from "@agentclientprotocol/sdk";
import * as zod from "./node_modules/@agentclientprotocol/sdk/dist/v1/schema/zod.gen.js";

const separator = process.argv.indexOf("--");
const workspace = process.argv[2];
const agentCommand = process.argv.slice(separator + 1);

const VALIDATORS = {
  "session/update": zod.zSessionNotification,
  "session/request_permission": zod.zRequestPermissionRequest,
  "fs/write_text_file": zod.zWriteTextFileRequest,
  "fs/read_text_file": zod.zReadTextFileRequest,
};

const summary = {
  initialize: null,
  stopReasons: [],
  texts: [],
  permissions: [],
  writes: [],
  reads: [],
  modeUpdates: [],
  replayKinds: [],
  replayBeforeAnswer: null,
  schemaProblems: [],
  rawMessages: 0,
  nonJsonLines: [],
  exitCodes: [],
};

function startAgent(policy) {
  const child = spawn(agentCommand[0], agentCommand.slice(1), {
    cwd: workspace,
    stdio: ["pipe", "pipe", "ignore"],
  });
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  const raw = [];
  let pending = "";
  const decoder = new TextDecoder();
  // Tee the agent's stdout: every line must be one JSON object, checked against the schema.
  const tee = new TransformStream({
    transform(chunk, controller) {
      pending += decoder.decode(chunk, { stream: true });
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (!line.trim()) continue;
        let message;
        try {
          message = JSON.parse(line);
        } catch {
          summary.nonJsonLines.push(line.slice(0, 200));
          continue;
        }
        raw.push(message);
        summary.rawMessages += 1;
        const validator = VALIDATORS[message.method];
        if (validator) {
          const checked = validator.safeParse(message.params);
          if (!checked.success) {
            summary.schemaProblems.push(`${message.method}: ${checked.error.message.slice(0, 400)}`);
          }
        }
      }
      controller.enqueue(chunk);
    },
  });
  const input = Readable.toWeb(child.stdout).pipeThrough(tee);
  const output = Writable.toWeb(child.stdin);
  const state = { updates: [], policy, raw, child, exited };
  const app = client()
    .onNotification("session/update", ({ params }) => {
      state.updates.push(params.update);
    })
    .onRequest("session/request_permission", async ({ params, signal }) => {
      summary.permissions.push({ toolCall: params.toolCall, options: params.options });
      const answer = state.policy.shift();
      if (answer === "hang") {
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        return { outcome: { outcome: "cancelled" } };
      }
      return { outcome: { outcome: "selected", optionId: answer } };
    })
    .onRequest("fs/write_text_file", ({ params }) => {
      summary.writes.push({ path: params.path, content: params.content });
      writeFileSync(params.path, params.content);
      return {};
    })
    .onRequest("fs/read_text_file", ({ params }) => {
      summary.reads.push(params.path);
      return { content: readFileSync(params.path, "utf8") };
    });
  state.connection = app.connect(ndJsonStream(output, input));
  return state;
}

function textOf(updates) {
  return updates
    .filter((u) => u.sessionUpdate === "agent_message_chunk" && u.content.type === "text")
    .map((u) => u.content.text)
    .join("");
}

async function prompt(agent, state, sessionId, text) {
  const before = state.updates.length;
  const result = await agent.request("session/prompt", {
    sessionId,
    prompt: [{ type: "text", text }],
  });
  summary.stopReasons.push(result.stopReason);
  summary.texts.push(textOf(state.updates.slice(before)));
  return result;
}

async function closeAgent(state) {
  state.child.stdin.end();
  summary.exitCodes.push(await state.exited);
}

const clientCapabilities = { fs: { readTextFile: true, writeTextFile: true }, terminal: false };

// First agent process: four turns.
const first = startAgent(["allow_once", "reject_once", "hang"]);
const agent = first.connection.agent;
summary.initialize = await agent.request("initialize", {
  protocolVersion: PROTOCOL_VERSION,
  clientCapabilities,
  clientInfo: { name: "acp-sdk-test", version: "2.4.0" },
});
const created = await agent.request("session/new", { cwd: workspace, mcpServers: [] });
const sessionId = created.sessionId;
await prompt(agent, first, sessionId, "say hello");
await prompt(agent, first, sessionId, "add a docstring to util.py");
await prompt(agent, first, sessionId, "create other.py");
// Cancel while the agent streams.
const streaming = prompt(agent, first, sessionId, "talk slowly");
while (!first.updates.some((u, i) => i > 0 && u.sessionUpdate === "agent_message_chunk" && u.content.text.startsWith("slow"))) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
await agent.notify("session/cancel", { sessionId });
await streaming;
await agent.request("session/set_mode", { sessionId, modeId: "auto-edit" });
await new Promise((resolve) => setTimeout(resolve, 100));
summary.modeUpdates = first.updates
  .filter((u) => u.sessionUpdate === "current_mode_update")
  .map((u) => u.currentModeId);
await closeAgent(first);

// Second process: load the session; the history is replayed before the answer.
const second = startAgent([]);
const agent2 = second.connection.agent;
await agent2.request("initialize", { protocolVersion: PROTOCOL_VERSION, clientCapabilities });
await agent2.request("session/load", { sessionId, cwd: workspace, mcpServers: [] });
summary.replayKinds = second.updates.map((u) => u.sessionUpdate);
const answerIndex = second.raw.findIndex((m) => m.id === 1 && "result" in m);
const lastUpdate = second.raw.map((m) => m.method).lastIndexOf("session/update");
summary.replayBeforeAnswer = lastUpdate >= 0 && lastUpdate < answerIndex;
await closeAgent(second);

summary.sessionId = sessionId;
summary.utilPy = readFileSync(join(workspace, "util.py"), "utf8");
process.stdout.write(JSON.stringify(summary) + "\n");
process.exit(0);
