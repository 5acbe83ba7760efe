/** What requireVisitor's forbidden() shows: a visitor without the right pass, or anyone else. */
export default function Forbidden() {
  return (
    <main>
      <h1>This page is for invited visitors</h1>
      <p>Open the link you were sent.</p>
    </main>
  );
}
