// Pushed with /push when spry runs with --load-file-in-cache /static=examples/static (npm start does).
document.getElementById('status').textContent = 'style.css and app.js loaded';
document.getElementById('status').className = 'pushed';
