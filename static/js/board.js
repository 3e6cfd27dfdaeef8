/*
 * Lifecycle board: drag and drop on top of the per-card Move forms, and focus after a move or a "Show all".
 *
 * Everything here is optional. Each card a user may move carries a plain POST form (a <select name="to">
 * and a note) that htmx submits in place, or the browser submits without JavaScript. Dropping a card on
 * another column only fills that form's <select> and submits it, so the server's rules apply unchanged:
 * a move backwards without a note comes back as the card's form, open, with the error next to the note.
 *
 * Listeners are delegated to the document because htmx replaces the board after every filter and move.
 */
(function () {
  "use strict";

  var TYPE = "application/x-spm-product";
  var dragged = null;

  function closest(target, selector) {
    return target instanceof Element ? target.closest(selector) : null;
  }

  function stageOf(element) {
    var column = closest(element, ".board__column[data-stage]");
    return column ? column.getAttribute("data-stage") : null;
  }

  function dropColumn(event) {
    var column = closest(event.target, ".board__column[data-stage]");
    if (!column || !dragged || column.getAttribute("data-stage") === stageOf(dragged)) {
      return null;
    }
    return column;
  }

  function markOver(column) {
    document.querySelectorAll(".board__column--over").forEach(function (element) {
      if (element !== column) {
        element.classList.remove("board__column--over");
      }
    });
    if (column) {
      column.classList.add("board__column--over");
    }
  }

  function endDrag() {
    if (dragged) {
      dragged.classList.remove("kcard--dragging");
    }
    dragged = null;
    markOver(null);
    var board = document.getElementById("board");
    if (board) {
      board.classList.remove("board--dragging");
    }
  }

  function submitMove(card, stage) {
    var form = card.querySelector("form[data-board-move]");
    var select = form && form.elements.namedItem("to");
    if (!select) {
      return;
    }
    select.value = stage;
    if (select.value !== stage) {
      return; // not a stage this card can go to
    }
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else if (window.htmx) {
      window.htmx.trigger(form, "submit");
    } else {
      form.submit();
    }
  }

  document.addEventListener("dragstart", function (event) {
    var card = closest(event.target, ".kcard[draggable='true']");
    if (!card || closest(event.target, ".kmove")) {
      return;
    }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData(TYPE, card.id);
    var name = card.querySelector(".kcard__name");
    event.dataTransfer.setData("text/plain", name ? name.textContent : card.id);
    card.classList.add("kcard--dragging");
    var board = document.getElementById("board");
    if (board) {
      board.classList.add("board--dragging");
    }
  });

  document.addEventListener("dragover", function (event) {
    var column = dropColumn(event);
    markOver(column);
    if (column) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });

  document.addEventListener("drop", function (event) {
    var column = dropColumn(event);
    if (!column) {
      return;
    }
    event.preventDefault();
    var card = dragged;
    endDrag();
    submitMove(card, column.getAttribute("data-stage"));
  });

  document.addEventListener("dragend", endDrag);

  // After a move the board is new: put the keyboard focus on the moved card, where the user left off.
  // After a refused move, htmx's own `autofocus` handling focuses the field with the error.
  document.addEventListener("htmx:afterSettle", function () {
    var moved = document.querySelector(".kcard--moved:not([data-focused])");
    if (!moved) {
      return;
    }
    moved.setAttribute("data-focused", "");
    var link = moved.querySelector(".kcard__name");
    if (link) {
      link.focus({ preventScroll: true });
    }
    moved.scrollIntoView({ block: "nearest", inline: "nearest" });
  });

  // "Show all" swaps the board with the column expanded: put the focus on the first card that was not shown
  // before, so a keyboard or screen reader user carries on where the list used to end.
  var expanding = null;
  document.addEventListener("click", function (event) {
    var link = closest(event.target, "a[data-board-expand]");
    if (link) {
      expanding = {
        stage: link.getAttribute("data-board-expand"),
        shown: parseInt(link.getAttribute("data-board-shown"), 10) || 0,
      };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!expanding) {
      return;
    }
    var links = document.querySelectorAll("#stage-" + expanding.stage + " .kcard__name");
    var next = links[expanding.shown] || links[links.length - 1];
    expanding = null;
    if (next) {
      next.focus({ preventScroll: true });
      next.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  });

  // While its Move form is open a card is not draggable, so text in the note can be selected.
  document.addEventListener(
    "toggle",
    function (event) {
      var details = closest(event.target, "details.kmove");
      var card = details && details.closest(".kcard");
      if (card) {
        card.setAttribute("draggable", details.open ? "false" : "true");
      }
    },
    true
  );

  // Escape closes an open Move form and returns focus to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var details = closest(event.target, "details.kmove[open]");
    if (details) {
      details.open = false;
      var summary = details.querySelector("summary");
      if (summary) {
        summary.focus();
      }
    }
  });
})();
