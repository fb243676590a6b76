/* Sign-in returns to the page asked for, its #section too (a fragment never reaches the server). */
"use strict";
(function () {
  const form = document.getElementById("signin");
  form.addEventListener("submit", () => {
    const next = form.elements.next;
    if (location.hash && !next.value.includes("#")) next.value += location.hash;
  });
  document.getElementById("token").focus();
})();
