/* The lead image's focal point in the explainer admin: click the picture to set the two
   number fields ("across" and "down", in percent); the marker and the 16:9, 4:3 and 1:1 crop
   previews follow either. The crops are computed as explainers/renditions.py crop_box() does.
   Positions are set through the CSSOM, which the Content-Security-Policy allows, never
   through style attributes. Without JavaScript the two fields work alone. */
(function () {
  "use strict";

  function clampPercent(value) {
    var number = Math.round(Number(value));
    if (!isFinite(number)) { return 50; }
    return Math.min(100, Math.max(0, number));
  }

  // The largest ratioW:ratioH box in the image, centred on the focal point as far as the
  // edges allow (the same arithmetic as crop_box() on the server).
  function cropBox(width, height, ratioW, ratioH, focalX, focalY) {
    var boxW, boxH;
    if (width * ratioH > height * ratioW) {
      boxH = height;
      boxW = Math.max(1, Math.min(width, Math.round(height * ratioW / ratioH)));
    } else {
      boxW = width;
      boxH = Math.max(1, Math.min(height, Math.round(width * ratioH / ratioW)));
    }
    var left = Math.min(Math.max(Math.round(width * focalX / 100 - boxW / 2), 0), width - boxW);
    var top = Math.min(Math.max(Math.round(height * focalY / 100 - boxH / 2), 0), height - boxH);
    return { left: left, top: top, width: boxW, height: boxH };
  }

  function setUp(picker) {
    var fieldX = document.getElementById(picker.dataset.x);
    var fieldY = document.getElementById(picker.dataset.y);
    var stage = picker.querySelector(".focal-stage");
    var image = picker.querySelector(".focal-image");
    var marker = picker.querySelector(".focal-marker");
    var status = picker.querySelector(".focal-status");
    if (!fieldX || !fieldY || !image) { return; }

    function draw() {
      var focalX = clampPercent(fieldX.value);
      var focalY = clampPercent(fieldY.value);
      marker.hidden = false;
      marker.style.left = focalX + "%";
      marker.style.top = focalY + "%";
      var width = image.naturalWidth;
      var height = image.naturalHeight;
      if (!width || !height) { return; }
      picker.querySelectorAll("[data-crop]").forEach(function (frame) {
        var ratio = frame.dataset.crop.split(":").map(Number);
        var box = cropBox(width, height, ratio[0], ratio[1], focalX, focalY);
        var preview = frame.querySelector("img");
        // The frame has the crop's shape (CSS); scale the picture so the box fills it.
        preview.style.width = (100 * width / box.width) + "%";
        preview.style.left = (-100 * box.left / box.width) + "%";
        preview.style.top = (-100 * box.top / box.height) + "%";
      });
      picker.classList.add("focal-ready");
    }

    stage.addEventListener("click", function (event) {
      var rect = image.getBoundingClientRect();
      if (!rect.width || !rect.height) { return; }
      fieldX.value = clampPercent((event.clientX - rect.left) / rect.width * 100);
      fieldY.value = clampPercent((event.clientY - rect.top) / rect.height * 100);
      draw();
      // Set by script, so no event says so: tell the form (its unsaved-changes question).
      fieldX.dispatchEvent(new Event("change", { bubbles: true }));
      status.textContent = "Focal point set to " + fieldX.value + "% across, " +
        fieldY.value + "% down. Save to keep it.";
    });
    [fieldX, fieldY].forEach(function (field) { field.addEventListener("input", draw); });

    // A newly chosen file is not this picture: its focal point starts from the middle.
    var upload = document.getElementById("id_image");
    if (upload) {
      upload.addEventListener("change", function () {
        fieldX.value = 50;
        fieldY.value = 50;
        picker.classList.add("focal-stale");
        status.textContent = "A new image is chosen: save, then set its focal point here.";
      });
    }

    if (image.complete) { draw(); } else { image.addEventListener("load", draw); }
  }

  function start() {
    document.querySelectorAll("[data-focal-picker]").forEach(setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
