/* The dashboard map: the outlines of the territories inside (the hub's OGC API), coloured as
   the table under the map says (its rows carry each territory's colour and figure). Without
   JavaScript, or when the outlines cannot be read, the table alone remains. */
(function () {
  "use strict";
  var box = document.getElementById("carte");
  if (!box || !window.L) { return; }
  var cells = {};
  document.querySelectorAll("#carte-tableau tbody tr[data-code]").forEach(function (row) {
    cells[row.dataset.code] = {
      colour: row.dataset.colour,
      label: row.dataset.label,
      name: row.querySelector("th a").textContent
    };
  });
  var map = L.map(box, { zoomControl: false, scrollWheelZoom: false, attributionControl: true });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  L.control.zoom({ zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(map);
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 18 }).addTo(map);
  }
  fetch(box.dataset.geojson, { headers: { Accept: "application/geo+json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    })
    .then(function (collection) {
      var drawn = L.geoJSON(collection, {
        filter: function (feature) { return feature.geometry && cells[feature.id]; },
        style: function (feature) {
          var cell = cells[feature.id];
          return { fillColor: cell.colour, fillOpacity: 0.85, color: "#333333", weight: 1 };
        },
        onEachFeature: function (feature, layer) {
          var cell = cells[feature.id];
          layer.bindTooltip(cell.name + " : " + cell.label);
        }
      }).addTo(map);
      if (drawn.getLayers().length) {
        map.fitBounds(drawn.getBounds());
        box.classList.add("drawn");
      }
    })
    .catch(function () { box.hidden = true; });
})();
