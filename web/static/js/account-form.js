// The new-account form of the first-run page and of an invite link: the same fields, the same checks.

/** The body to send for a new account, or null after `showError` said what is wrong. */
export function newAccountBody(form, showError) {
  const username = form.username.value.trim();
  const password = form.password.value;
  const problem = !username ? "Choose a username."
    : password.length < 8 ? "Use a password of at least 8 characters."
      : password !== form.password2.value ? "The two passwords are not the same." : "";
  showError(problem);
  if (problem) return null;
  const body = { username, password };
  if (form.email.value.trim()) body.email = form.email.value.trim();
  return body;
}
