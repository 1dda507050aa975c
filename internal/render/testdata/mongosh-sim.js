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

// SIM_DOWN="mongodb-2:27017,..." names members that never answer, as a
// member whose container exited or hangs: connecting to one alone times out,
// and a replica set connection goes on with the others. The set follows
// MongoDB's rules for what a majority decides: a primary is elected only
// while a majority of the configured members runs
// (https://www.mongodb.com/docs/manual/core/replica-set-elections/),
// replSetInitiate needs every proposed member to answer and
// replSetReconfig a majority of them (src/mongo/db/repl/
// check_quorum_for_config_change.cpp: "replSetInitiate quorum check failed
// because not all proposed set members responded affirmatively"), and a
// w: "majority" write waits for a majority.
const down = new Set((process.env.SIM_DOWN || "").split(",").filter(Boolean));
const answers = (host) => !down.has(host);
const majorityOf = (list) => Math.floor(list.length / 2) + 1;
const hasMajority = (list) => list.filter(answers).length >= majorityOf(list);
const hasPrimary = () => state.initiated && hasMajority(state.members);
// The members that are configured and answer, as the primary's first
// choice is the first of them (priority 2 for mongodb-1).
const primary = () => (hasPrimary() ? state.members.find(answers) : undefined);

// A virtual clock: sleep() and a connection that times out move it, so the
// script's deadlines pass without the test waiting for them.
let clock = Date.UTC(2026, 0, 1);
class SimDate extends Date {
  constructor(...args) {
    if (args.length === 0) super(clock);
    else super(...args);
  }
  static now() {
    return clock;
  }
}
let openClients = 0;

function database(url) {
  const m = /^mongodb:\/\/(?:root:([^@]*)@)?([^/]*)\/(\w+)\?(.*)$/.exec(url);
  if (!m) throw new Error("bad URI " + url);
  const [, password, hostList, , query] = m;
  const params = new URLSearchParams(query);
  const hosts = hostList.split(",");
  const direct = params.get("directConnection") === "true";
  if (direct && hosts.length !== 1) throw new Error("directConnection with " + hosts.length + " hosts: " + url);
  if (!hosts.some(answers)) {
    clock += Number(params.get("serverSelectionTimeoutMS") || 30000);
    throw new ServerError("MongoServerSelectionError", "Server selection timed out: " + hosts.join(", ") + " do not answer");
  }
  if (password !== undefined && decodeURIComponent(password) !== process.env.MONGODB_ROOT_PASSWORD) throw new ServerError("AuthenticationFailed", "auth failed");
  const authenticated = password !== undefined;
  openClients++;
  const command = (cmd) => {
    const name = Object.keys(cmd)[0];
    log.push(name);
    if (!authenticated && name !== "hello") throw new ServerError("Unauthorized", "command " + name + " requires authentication");
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
      case "hello":
        return hello();
      case "replSetGetStatus":
        if (!state.initiated) throw new ServerError("NotYetInitialized", "no replset config has been received");
        return { ok: 1 };
      case "replSetInitiate": {
        if (state.initiated) throw new ServerError("AlreadyInitialized", "already initialized");
        const proposed = cmd.replSetInitiate.members.map((x) => x.host);
        const silent = proposed.filter((h) => !answers(h));
        if (silent.length) throw new ServerError("NodeNotFound", "replSetInitiate quorum check failed because not all proposed set members responded affirmatively: " + silent.join(", "));
        state.initiated = true;
        state.members = proposed;
        state.version = 1;
        return { ok: 1 };
      }
      case "replSetGetConfig":
        return { config: { version: state.version, members: state.members.map((host, i) => ({ _id: i, host })) } };
      case "replSetReconfig": {
        const next = cmd.replSetReconfig.members.map((x) => x.host);
        if (next.length - state.members.length > 1) throw new ServerError("NewReplicaSetConfigurationIncompatible", "more than one voting member added");
        if (cmd.replSetReconfig.version !== state.version + 1) throw new ServerError("NewReplicaSetConfigurationIncompatible", "bad version");
        // A newly added member does not vote until it has caught up
        // (newlyAdded, MongoDB 4.4+): the quorum is the old members'.
        if (!hasMajority(state.members)) throw new ServerError("NodeNotFound", "Quorum check failed because not enough voting nodes responded");
        state.members = next;
        state.version++;
        return { ok: 1 };
      }
      case "usersInfo":
        return { users: state.users[cmd.usersInfo.user] ? [{ user: cmd.usersInfo.user }] : [] };
      case "createUser":
      case "updateUser":
        if (!hasMajority(state.members)) throw new ServerError("WriteConcernFailed", "waiting for replication timed out");
        if (name === "createUser" && state.users[cmd.createUser]) throw new ServerError("Location51003", "user exists");
        state.users[cmd[name]] = { pwd: cmd.pwd, roles: cmd.roles };
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
  // hello answers without authentication. Through a direct connection it
  // is that member's view: the set's name and members once it has a
  // configuration; through a replica set connection, the primary's.
  const hello = () => {
    const host = direct ? hosts[0] : primary();
    const configured = state.initiated && state.members.includes(host);
    const r = { isWritablePrimary: host !== undefined && host === primary(), me: host };
    if (configured) Object.assign(r, { setName: "rs0", setVersion: state.version, hosts: state.members.slice() });
    else r.isreplicaset = true;
    return r;
  };
  const db = {
    adminCommand: command,
    runCommand: command,
    hello: () => command({ hello: 1 }),
    getSiblingDB: () => db,
    getMongo: () => ({ close: () => openClients-- }),
    version: () => state.binary,
    getCollectionNames: () => Object.keys(state.collections || {}).sort(),
    getCollection: (name) => ({ countDocuments: () => (state.collections || {})[name] || 0 }),
  };
  return db;
}

let exitCode = 0;
const sandbox = {
  connect: database,
  sleep: (ms) => {
    clock += ms;
  },
  Date: SimDate,
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
