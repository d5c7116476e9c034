// The sign-in page of the auth service. Logging in here sets the HttpOnly
// `Authentication` cookie for this host; the browser sends it to the jobs
// service on the same host too, so the dashboard is signed in. `?next=URL`
// says where to go afterwards (only URLs on this host are followed: no open
// redirect); `?signout=1` logs out first.
import { graphql, messageOf } from "/static/dashboard/api.js";

const LOGIN = `mutation Login($loginInput: LoginInput!) { login(loginInput: $loginInput) { id email } }`;
const SIGN_UP = `mutation SignUp($createUserInput: CreateUserInput!) {
  createUser(createUserInput: $createUserInput) { id } }`;
const LOGOUT = `mutation { logout }`;

// The auth service's endpoint, next to this page (`/signin` -> `/graphql`; behind a
// proxy that serves the auth service under a prefix, `/auth/signin` -> `/auth/graphql`).
const ENDPOINT = new URL("graphql", window.location.href).pathname;
const params = new URLSearchParams(window.location.search);
const form = document.getElementById("signin");
const errorBox = document.getElementById("error");
const notice = document.getElementById("notice");

function nextUrl() {
  const next = params.get("next");
  if (!next) return null;
  try {
    const url = new URL(next, window.location.href);
    const sameHost = url.hostname === window.location.hostname;
    return sameHost && (url.protocol === "http:" || url.protocol === "https:") ? url.href : null;
  } catch {
    return null;
  }
}

function show(box, text) {
  box.textContent = text;
  box.hidden = !text;
}

async function signIn(email, password) {
  await graphql(LOGIN, { loginInput: { email, password } }, ENDPOINT);
  const next = nextUrl();
  if (next) {
    window.location.assign(next);
  } else {
    show(notice, `Signed in as ${email}.`);
  }
}

async function submit(signUp) {
  show(errorBox, "");
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  try {
    if (signUp) await graphql(SIGN_UP, { createUserInput: { email, password } }, ENDPOINT);
    await signIn(email, password);
  } catch (error) {
    show(errorBox, messageOf(error));
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit(false);
});
form.elements.signup.addEventListener("click", () => submit(true));

if (params.get("signout")) {
  graphql(LOGOUT, {}, ENDPOINT).then(
    () => show(notice, "Signed out."),
    () => show(notice, "Signed out."), // not signed in: the same outcome
  );
}
