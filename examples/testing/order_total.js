// The order page's script: fetch the order's total from the API and show it in dollars.
// --8<-- [start:show]
async function showTotal(orderId) {
  const response = await fetch(`/orders/${orderId}/total`);
  const order = await response.json();
  document.querySelector("#total").textContent = "$" + (order.total_cents / 100).toFixed(2);
}
// --8<-- [end:show]

showTotal(document.body.dataset.orderId);
