// The episode page's player: chapter and transcript links seek the <audio> instead of opening
// the file, and the chapter (and transcript paragraph) being heard is marked aria-current.
// Without JavaScript the links still work: they open the audio at that time (#t=seconds).
(function () {
  "use strict";
  var audio = document.getElementById("player");
  if (!audio) return;
  var lists = Array.prototype.map.call(document.querySelectorAll(".chapter-list, .transcript-lines"), function (list) {
    return Array.prototype.slice.call(list.querySelectorAll("a[data-start]"));
  });

  function seek(seconds) {
    audio.currentTime = seconds;
    var playing = audio.play();
    if (playing && playing.catch) playing.catch(function () {});
  }

  function mark() {
    var now = audio.currentTime;
    lists.forEach(function (links) {
      var current = null;
      for (var i = 0; i < links.length && parseFloat(links[i].dataset.start) <= now + 0.25; i++) current = links[i];
      links.forEach(function (link) {
        if (link === current) link.setAttribute("aria-current", "true");
        else link.removeAttribute("aria-current");
      });
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-start]");
    if (!link) return;
    event.preventDefault();
    seek(parseFloat(link.dataset.start));
    mark();
  });
  audio.addEventListener("timeupdate", mark);
  audio.addEventListener("seeked", mark);
  var start = /^#t=(\d+(?:\.\d+)?)$/.exec(window.location.hash);
  if (start) audio.currentTime = parseFloat(start[1]);
})();
