import { usePageTitle } from "../components.tsx";
import { Link } from "../router.tsx";

export function NotFoundPage({ what = "This page" }: { what?: string }) {
  usePageTitle("Not found");
  return (
    <div className="empty">
      <h1>{what} does not exist</h1>
      <p>The link may be mistyped, or the work may not be indexed yet.</p>
      <p>
        <Link href="/" className="button">
          Back to Explore
        </Link>
      </p>
    </div>
  );
}
