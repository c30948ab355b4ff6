/* 和美社区 dashboards: draws the ECharts charts from the page's chart-data endpoint.
 *
 * The page holds <div data-chart-url="…"> around the chart containers (#chart-trend,
 * #chart-categories, #chart-children). One fetch brings every series; clicking a bar or a
 * point opens the list (or the dashboard) behind it. When everything is drawn the wrapper
 * gets data-charts-ready="1" (the end-to-end tests wait for it). The series come from that JSON
 * endpoint, never from an inline script, so the page runs under the Content-Security-Policy.
 */
(function () {
  "use strict";

  var RED = "#c8161d";
  var PALETTE = [RED, "#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#d63384", "#6c757d"];
  var FONT = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  // No animation under automation, so screenshots show the finished charts.
  var ANIMATE = !navigator.webdriver;

  function ready(fn) {
    if (document.readyState !== "loading") {
      fn();
    } else {
      document.addEventListener("DOMContentLoaded", fn);
    }
  }

  function draw(element, option, urls) {
    var chart = echarts.init(element, null, { renderer: "canvas" });
    option.animation = ANIMATE;
    option.color = option.color || PALETTE;
    option.textStyle = { fontFamily: FONT };
    if (option.tooltip) {
      // Drawn on the canvas: ECharts' HTML tooltip writes style="" attributes, which the
      // Content-Security-Policy (no 'unsafe-inline') refuses.
      option.tooltip.renderMode = "richText";
    }
    chart.setOption(option);
    if (urls) {
      chart.on("click", function (params) {
        var url = urls[params.dataIndex];
        if (url) {
          window.location.href = url;
        }
      });
    }
    return chart;
  }

  function empty(element, text) {
    element.innerHTML = '<div class="h-100 d-flex align-items-center justify-content-center text-muted">' + text + "</div>";
  }

  function hasData(values) {
    return values.some(function (v) { return v; });
  }

  function trendChart(element, data) {
    var s = data.series;
    var t = data.trend;
    return draw(element, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [s.received, s.resolved, s.response_rate, s.satisfaction_rate] },
      grid: { left: 48, right: 48, top: 60, bottom: 28 },
      xAxis: { type: "category", data: t.labels, axisLabel: { formatter: function (v) { return v.slice(2).replace("-", "/"); } } },
      yAxis: [
        { type: "value", name: s.count, minInterval: 1 },
        { type: "value", name: s.rate, min: 0, max: 100, splitLine: { show: false } }
      ],
      series: [
        { name: s.received, type: "bar", data: t.received, barMaxWidth: 18, cursor: "pointer" },
        { name: s.resolved, type: "bar", data: t.resolved, barMaxWidth: 18, itemStyle: { color: "#9ec5fe" } },
        { name: s.response_rate, type: "line", yAxisIndex: 1, data: t.response_rate, connectNulls: false, itemStyle: { color: "#198754" } },
        { name: s.satisfaction_rate, type: "line", yAxisIndex: 1, data: t.satisfaction_rate, connectNulls: false, itemStyle: { color: "#fd7e14" } }
      ]
    }, t.urls);
  }

  function categoryChart(element, data) {
    var c = data.categories;
    // Largest at the top: ECharts draws a category y axis from the bottom up.
    var order = c.names.map(function (_n, i) { return i; }).sort(function (a, b) { return c.received[a] - c.received[b]; });
    return draw(element, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eee" } } },
      yAxis: { type: "category", data: order.map(function (i) { return c.names[i]; }), axisTick: { show: false } },
      series: [{
        name: data.series.received,
        type: "bar",
        barMaxWidth: 22,
        label: { show: true, position: "right" },
        data: order.map(function (i) { return c.received[i]; })
      }]
    }, order.map(function (i) { return c.urls[i]; }));
  }

  function childrenChart(element, data) {
    var c = data.children;
    var s = data.series;
    var narrow = element.clientWidth < 600;
    var rotate = narrow ? 60 : (c.names.length > 8 ? 30 : 0);
    return draw(element, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [s.received, s.satisfaction_rate, s.response_rate] },
      grid: { left: 48, right: 48, top: 60, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: c.names, axisLabel: { interval: 0, rotate: rotate, fontSize: narrow ? 10 : 12 } },
      yAxis: [
        { type: "value", name: s.count, minInterval: 1 },
        { type: "value", name: s.rate, min: 0, max: 100, splitLine: { show: false } }
      ],
      series: [
        { name: s.received, type: "bar", data: c.received, barMaxWidth: 28 },
        { name: s.satisfaction_rate, type: "line", yAxisIndex: 1, data: c.satisfaction_rate, itemStyle: { color: "#fd7e14" } },
        { name: s.response_rate, type: "line", yAxisIndex: 1, data: c.response_rate, itemStyle: { color: "#198754" } }
      ]
    }, c.urls);
  }

  ready(function () {
    var root = document.querySelector("[data-chart-url]");
    if (!root || !window.echarts) {
      return;
    }
    var noData = root.dataset.emptyText || "暂无数据";
    fetch(root.dataset.chartUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("chart data: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        var charts = [];
        var trend = document.getElementById("chart-trend");
        if (trend) {
          if (hasData(data.trend.received) || hasData(data.trend.resolved)) {
            charts.push(trendChart(trend, data));
          } else {
            empty(trend, noData);
          }
        }
        var categories = document.getElementById("chart-categories");
        if (categories) {
          if (hasData(data.categories.received)) {
            charts.push(categoryChart(categories, data));
          } else {
            empty(categories, noData);
          }
        }
        var children = document.getElementById("chart-children");
        if (children) {
          if (data.children.names.length) {
            charts.push(childrenChart(children, data));
          } else {
            empty(children, noData);
          }
        }
        window.addEventListener("resize", function () {
          charts.forEach(function (chart) { chart.resize(); });
        });
        root.dataset.chartsReady = "1";
      })
      .catch(function (error) {
        root.dataset.chartsReady = "error";
        if (window.console) {
          console.error(error);
        }
      });
  });
})();
