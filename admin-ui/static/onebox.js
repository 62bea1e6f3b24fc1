/* onebox admin: the only script, loaded from our origin (the CSP allows no inline script).
 * It asks before a form marked data-confirm is sent; every page works without it. */
document.addEventListener("submit", function (e) {
	var msg = e.target.getAttribute("data-confirm");
	if (msg && !window.confirm(msg))
		e.preventDefault();
});
