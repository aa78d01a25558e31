using Microsoft.Playwright;

namespace BeijingEts.Functions.Tests.Portal;

/// <summary>
/// Headless Chromium from Debian's package (/usr/bin/chromium, or CHROMIUM_PATH), driven by Playwright, which downloads
/// no browser of its own. Without a browser the browser tests skip with one line saying why; ./scripts/test.sh installs it.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    private static readonly string ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static string? MissingReason =>
        File.Exists(ExecutablePath) ? null : $"Browser tests skipped: no Chromium at {ExecutablePath} (apt-get install -y chromium, or set CHROMIUM_PATH).";

    private readonly SemaphoreSlim _start = new(1, 1);
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The browser, started on first use; skips the calling test when there is none.</summary>
    public async Task<IBrowser> GetAsync()
    {
        if (MissingReason is { } reason) Assert.Skip(reason);
        await _start.WaitAsync();
        try
        {
            if (_browser is not null) return _browser;
            Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN"],
            });
            return _browser;
        }
        finally
        {
            _start.Release();
        }
    }

    /// <summary>A fresh browser context (its own storage: a new user) on a laptop-sized screen, at the app's address.</summary>
    public async Task<IPage> NewPageAsync(Uri baseAddress, int width = 1366, int height = 900)
    {
        var browser = await GetAsync();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "zh-CN",
            TimezoneId = "Asia/Shanghai",
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(30_000);
        // What a page shows is awaited as long as an action is: 5 s (Playwright's default) is too short for a page
        // that makes several API calls while the rest of the suite loads the same two cores.
        Microsoft.Playwright.Assertions.SetDefaultExpectTimeout(30_000);
        var page = await context.NewPageAsync();
        // A script error or a CSP refusal is a bug even when the page looks right: each test asserts there were none.
        var problems = PageProblems.GetOrCreateValue(page);
        page.PageError += (_, error) => problems.Enqueue($"page error: {error}");
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && message.Text.Contains("Content Security Policy", StringComparison.Ordinal)) problems.Enqueue($"CSP: {message.Text}");
        };
        return page;
    }

    internal static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IPage, System.Collections.Concurrent.ConcurrentQueue<string>> PageProblems = [];

    /// <summary>Where the screenshots of each page go: under the test results (TEST_RESULTS_DIR), else test-results/ in the checkout.</summary>
    public static string ScreenshotPath(string name)
    {
        var root = Environment.GetEnvironmentVariable("TEST_RESULTS_DIR") is { Length: > 0 } results ? results : Path.Combine(Repository.Root, "test-results");
        var dir = Path.Combine(root, "screenshots");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name + ".png");
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

/// <summary>What a user does in the portal: signs in on the development page, opens a page, keeps a screenshot of it.</summary>
public static class PortalSteps
{
    public static async Task SignInAsync(this IPage page, string role, string? scope = null)
    {
        await page.GotoAsync("/");
        await page.Locator("#signin-role").SelectOptionAsync(role);
        if (scope is not null) await page.Locator("#signin-scope").FillAsync(scope);
        await page.Locator("#signin-submit").ClickAsync();
        await page.Locator("#nav a").First.WaitForAsync();
    }

    public static async Task OpenAsync(this IPage page, string pageId)
    {
        await page.GotoAsync($"/#/{pageId}");
        await page.Locator($"section.page[data-page='{pageId}']").WaitForAsync();
    }

    /// <summary>Fails when the page had a script error or broke the Content-Security-Policy.</summary>
    public static void AssertNoPageProblems(this IPage page)
    {
        var problems = Browser.PageProblems.GetOrCreateValue(page);
        Assert.True(problems.IsEmpty, string.Join("\n", problems));
    }

    public static Task ScreenshotAsync(this IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath(name), FullPage = true });

    /// <summary>The option ECharts holds for the chart in the element (its data, not its pixels).</summary>
    public static async Task<JsonElement> ChartOptionAsync(this IPage page, string chart)
    {
        var selector = $"[data-chart='{chart}'][data-ready='true']";
        await page.Locator(selector).WaitForAsync();
        var json = await page.EvaluateAsync<string>("selector => JSON.stringify(echarts.getInstanceByDom(document.querySelector(selector)).getOption())", selector);
        return JsonDocument.Parse(json).RootElement;
    }
}
