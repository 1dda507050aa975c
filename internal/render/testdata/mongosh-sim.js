// A small simulation of mongosh and a MongoDB replica set, for testing the
// generated init script's logic with node: node mongosh-sim.js SCRIPT STATE
// runs SCRIPT against the state in the JSON file STATE (created when
// missing), writes the new state back, and prints the commands it received.
"use strict";
const fs = require("fs");
const vm = require("vm");

const [script, stateFile] = process.argv.slice(2);
let state = { initiated: false, members: [], users: {}, version: 0, collections: {}, binary: "8.0.32", fcv: "8.0" };
if (fs.existsSync(stateFile)) state = JSON.parse(fs.readFileSync(stateFile, "utf8"));
const log = [];
// SIM_FAIL="command:n,..." makes the first n calls of a command fail as a
// busy or changing replica set would: replSetInitiate and createUser with
// a transient error, replSetReconfig after another reconfiguration moved
// the config version.
const failures = {};
for (const f of (process.env.SIM_FAIL || "").split(",").filter(Boolean)) {
  const [name, n] = f.split(":");
  failures[name] = Number(n);
}

class ServerError extends Error {
  constructor(codeName, msg) {
    super(msg);
    this.codeName = codeName;
  }
}

function database(url) {
  const m = /^mongodb:\/\/root:([^@]*)@([^/]*)\/(\w+)\?(.*)$/.exec(url);
  if (!m) throw new Error("bad URI " + url);
  if (decodeURIComponent(m[1]) !== process.env.MONGODB_ROOT_PASSWORD) throw new ServerError("AuthenticationFailed", "auth failed");
  const command = (cmd) => {
    const name = Object.keys(cmd)[0];
    log.push(name);
    if ((name === "createUser" || name === "updateUser") && !(cmd.writeConcern && cmd.writeConcern.wtimeout > 0)) {
      throw new Error(name + " without a bounded write concern");
    }
    if (failures[name] > 0) {
      failures[name]--;
      if (name === "replSetReconfig") {
        state.version++; // someone else reconfigured: this config is stale now
        throw new ServerError("NewReplicaSetConfigurationIncompatible", "config version moved");
      }
      throw new ServerError("NotWritablePrimary", "not primary yet");
    }
    switch (name) {
      case "replSetGetStatus":
        if (!state.initiated) throw new ServerError("NotYetInitialized", "no replset config has been received");
        return { ok: 1 };
      case "replSetInitiate":
        if (state.initiated) throw new ServerError("AlreadyInitialized", "already initialized");
        state.initiated = true;
        state.members = cmd.replSetInitiate.members.map((x) => x.host);
        state.version = 1;
        return { ok: 1 };
      case "replSetGetConfig":
        return { config: { version: state.version, members: state.members.map((host, i) => ({ _id: i, host })) } };
      case "replSetReconfig": {
        const next = cmd.replSetReconfig.members.map((x) => x.host);
        if (next.length - state.members.length > 1) throw new ServerError("NewReplicaSetConfigurationIncompatible", "more than one voting member added");
        if (cmd.replSetReconfig.version !== state.version + 1) throw new ServerError("NewReplicaSetConfigurationIncompatible", "bad version");
        state.members = next;
        state.version++;
        return { ok: 1 };
      }
      case "usersInfo":
        return { users: state.users[cmd.usersInfo.user] ? [{ user: cmd.usersInfo.user }] : [] };
      case "createUser":
        if (state.users[cmd.createUser]) throw new ServerError("Location51003", "user exists");
        state.users[cmd.createUser] = { pwd: cmd.pwd, roles: cmd.roles };
        return { ok: 1 };
      case "updateUser":
        state.users[cmd.updateUser] = { pwd: cmd.pwd, roles: cmd.roles };
        return { ok: 1 };
      case "getParameter":
        return { featureCompatibilityVersion: { version: state.fcv }, ok: 1 };
      case "setFeatureCompatibilityVersion": {
        // MongoDB 7.0+ refuses without confirm, and takes only the
        // binary's own feature version or the one before it.
        if (cmd.confirm !== true) throw new ServerError("IllegalOperation", "setFeatureCompatibilityVersion needs confirm: true");
        const series = state.binary.split(".").slice(0, 2).join(".");
        const order = ["6.0", "7.0", "8.0", "8.2"];
        const want = cmd.setFeatureCompatibilityVersion;
        if (want !== series && order.indexOf(want) !== order.indexOf(series) - 1) throw new ServerError("BadValue", "invalid featureCompatibilityVersion " + want + " for " + state.binary);
        state.fcv = want;
        return { ok: 1 };
      }
    }
    throw new Error("unexpected command " + name);
  };
  const db = {
    adminCommand: command,
    runCommand: command,
    hello: () => ({ isWritablePrimary: state.initiated && /replicaSet=rs0/.test(m[4]) }),
    getSiblingDB: () => db,
    version: () => state.binary,
    getCollectionNames: () => Object.keys(state.collections || {}).sort(),
    getCollection: (name) => ({ countDocuments: () => (state.collections || {})[name] || 0 }),
  };
  return db;
}

let exitCode = 0;
const sandbox = {
  connect: database,
  sleep: () => {},
  print: (s) => log.push("print: " + s),
  quit: (code) => {
    exitCode = code || 0;
    throw new Error("quit");
  },
  process: { env: process.env },
  encodeURIComponent,
  JSON,
  Math,
  Error,
};
try {
  vm.runInNewContext(fs.readFileSync(script, "utf8"), sandbox, { filename: script });
} catch (e) {
  if (e.message !== "quit") {
    log.push("error: " + e.message);
    exitCode = 1;
  }
}
fs.writeFileSync(stateFile, JSON.stringify(state));
console.log(JSON.stringify({ exitCode, log, state }));
