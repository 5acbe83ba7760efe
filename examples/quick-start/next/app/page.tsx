export default function Home() {
  return <p>Thank you.</p>;
}
