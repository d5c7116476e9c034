// Live views: "something changed, look again".
//
// When the service accepts a graphql-transport-ws WebSocket at /graphql, a view
// subscribes (`jobUpdated`) and re-reads what it shows each time an update
// arrives. When it does not (an older service, a proxy without WebSockets, the
// socket dropped), the view re-reads every POLL_MS instead. Either way one
// function renders: the subscription only says when.

export const POLL_MS = 1000;
const CONNECT_TIMEOUT_MS = 3000;
let connecting = null; // Promise<Connection | null>, shared by every view of the page

/** One graphql-transport-ws connection; subscriptions multiplex over it. */
class Connection {
  constructor(socket) {
    this.socket = socket;
    this.nextId = 1;
    this.sinks = new Map();
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", () => {
      connecting = null;
      for (const sink of this.sinks.values()) sink.closed();
      this.sinks.clear();
    });
  }

  receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (message.type === "ping") {
      this.send({ type: "pong" });
      return;
    }
    const sink = this.sinks.get(message.id);
    if (!sink) return;
    if (message.type === "next") sink.next(message.payload);
    if (message.type === "error" || message.type === "complete") {
      this.sinks.delete(message.id);
      if (message.type === "error") sink.closed();
      else sink.complete();
    }
  }

  send(message) {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Subscribe; returns a function that ends the subscription. */
  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    this.sinks.set(id, sink);
    this.send({ id, type: "subscribe", payload: { query, variables } });
    return () => {
      if (this.sinks.delete(id)) this.send({ id, type: "complete" });
    };
  }
}

/** The page's connection, or null when the service does not speak the protocol. */
export function connection() {
  if (!connecting) connecting = open();
  return connecting;
}

function open() {
  return new Promise((resolve) => {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${window.location.host}/graphql`, "graphql-transport-ws");
    } catch {
      resolve(null);
      return;
    }
    const fail = () => {
      clearTimeout(timer);
      socket.close();
      resolve(null);
    };
    const timer = setTimeout(fail, CONNECT_TIMEOUT_MS);
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: {} })));
    socket.addEventListener("error", fail);
    socket.addEventListener("close", fail);
    socket.addEventListener("message", function acked(event) {
      let message = {};
      try {
        message = JSON.parse(event.data);
      } catch {
        /* not the protocol */
      }
      if (message.type !== "connection_ack") return;
      clearTimeout(timer);
      socket.removeEventListener("message", acked);
      socket.removeEventListener("error", fail);
      socket.removeEventListener("close", fail);
      resolve(new Connection(socket));
    });
  });
}

const JOB_UPDATED = `subscription JobUpdated($id: ID!) { jobUpdated(id: $id) { id status updatedAt } }`;

/**
 * Call `refresh()` now and whenever job `id` changes, until `refresh` returns
 * true (the job is final) or the returned stop function is called. The
 * `mode` callback hears "subscription" or "polling".
 */
export function watchJob(id, refresh, mode = () => {}) {
  let stopped = false;
  let unsubscribe = () => {};
  let timer = null;
  let pending = false;
  let again = false; // an update arrived while a look was under way: look once more

  async function look() {
    if (stopped) return;
    if (pending) {
      again = true;
      return;
    }
    pending = true;
    try {
      do {
        again = false;
        if (await refresh()) stop();
      } while (again && !stopped);
    } finally {
      pending = false;
    }
  }

  function poll() {
    mode("polling");
    const tick = async () => {
      await look();
      if (!stopped) timer = setTimeout(tick, POLL_MS);
    };
    timer = setTimeout(tick, POLL_MS);
  }

  function stop() {
    stopped = true;
    unsubscribe();
    clearTimeout(timer);
  }

  look().then(async () => {
    if (stopped) return;
    const conn = await connection();
    if (stopped) return;
    if (!conn) {
      poll();
      return;
    }
    mode("subscription");
    unsubscribe = conn.subscribe(JOB_UPDATED, { id }, {
      next: () => look(),
      complete: () => look().then(stop),
      closed: () => { if (!stopped) poll(); },
    });
  });
  return stop;
}

/** Call `refresh()` every `everyMs` while the tab is visible; returns a stop function. */
export function every(everyMs, refresh) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (!document.hidden) await refresh();
    if (!stopped) timer = setTimeout(tick, everyMs);
  };
  timer = setTimeout(tick, everyMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
