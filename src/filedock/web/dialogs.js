// Modal questions with <dialog>: the browser keeps focus inside, Escape cancels, and
// focus returns to the button that opened it.

/** Show a dialog whose form has method="dialog"; resolve with the button's value
 * ("" when dismissed with Escape). */
export function askChoice(dialog) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    dialog.returnValue = "";
    dialog.addEventListener(
      "close",
      () => {
        opener?.focus?.();
        resolve(dialog.returnValue);
      },
      { once: true },
    );
    dialog.showModal();
  });
}

export async function confirmDelete(dialog, text) {
  dialog.querySelector("p").textContent = text;
  return (await askChoice(dialog)) === "yes";
}
