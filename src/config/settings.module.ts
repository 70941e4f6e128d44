import { Global, Inject, Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { Settings } from './settings.schema';

/** Injection token of the validated `Settings` object. */
export const SETTINGS = Symbol('flamebill.settings');

/** Parameter decorator: `constructor(@InjectSettings() settings: Settings)`. */
export const InjectSettings = (): ParameterDecorator & PropertyDecorator => Inject(SETTINGS);

/**
 * Makes the settings, validated before Nest starts (so a wrong one fails with one line), available
 * everywhere: inject `SETTINGS`, or `ConfigService` (`config.get('server.port')`).
 */
@Global()
@Module({})
export class SettingsModule {
  static forRoot(settings: Settings): DynamicModule {
    return {
      module: SettingsModule,
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, skipProcessEnv: true, load: [() => settings], isGlobal: true }),
      ],
      providers: [{ provide: SETTINGS, useValue: settings }],
      exports: [SETTINGS],
    };
  }
}
