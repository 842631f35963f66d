/**
 * AWS Marketplace publishes its EventBridge events in us-east-1 only. When Agora's home region
 * is another one, this small stack in us-east-1 forwards them to the home region's default bus,
 * with a dead-letter queue for deliveries that fail — alarmed on its own alerts topic, since a
 * CloudWatch alarm can only notify a topic in its own region.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { MARKETPLACE_EVENT_SOURCES } from './constructs/contract-pipeline';
import { createAlertsTopic, deadLetterQueueAlarm } from './constructs/operations';
import { acknowledge } from './constructs/service-function';

export { MARKETPLACE_EVENT_SOURCES };
export const MARKETPLACE_EVENT_REGION = 'us-east-1';

export interface MarketplaceForwarderStackProps extends StackProps {
  readonly homeRegion: string;
  /** Email addresses subscribed to this region's alerts topic. */
  readonly alertEmails?: readonly string[];
}

export class MarketplaceForwarderStack extends Stack {
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;
  /** us-east-1's operators' topic (the home region's is in the stateless stack). */
  readonly alerts: Topic;

  constructor(scope: Construct, id: string, props: MarketplaceForwarderStackProps) {
    super(scope, id, props);
    const deadLetters = new Queue(this, 'ForwardDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      deadLetters,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the forwarding rule.',
    );
    const homeBus = EventBus.fromEventBusArn(
      this,
      'HomeRegionBus',
      `arn:${this.partition}:events:${props.homeRegion}:${this.account}:event-bus/default`,
    );
    this.rule = new Rule(this, 'ForwardMarketplaceEvents', {
      description: `Forward AWS Marketplace events to ${props.homeRegion}`,
      eventPattern: { source: MARKETPLACE_EVENT_SOURCES },
      targets: [new EventBusTarget(homeBus, { deadLetterQueue: deadLetters })],
    });
    this.deadLetterQueue = deadLetters;
    this.alerts = createAlertsTopic(
      this,
      'Alerts',
      'Agora operational alerts (us-east-1 marketplace forwarder)',
      props.alertEmails ?? [],
    );
    deadLetterQueueAlarm(
      this,
      'ForwardDeadLettersAlarm',
      deadLetters,
      this.alerts,
      `The us-east-1 marketplace forwarding dead-letter queue (events not forwarded to ${props.homeRegion})`,
    );
  }
}
